public import Foundation
public import TriageCore

/// Reads passwords from a file or from systemd's credentials directory at start-up.
public enum SecretReader {
    public static func read(_ source: SecretSource, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Secret {
        let path: String
        switch source {
        case .file(let f): path = f
        case .credential(let name):
            guard let dir = environment["CREDENTIALS_DIRECTORY"] else {
                throw TriageError(.credential, "credential \"\(name)\": $CREDENTIALS_DIRECTORY is not set (run under systemd with LoadCredential=)")
            }
            path = dir + "/" + name
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TriageError(.credential, "cannot read the secret file \(path)")
        }
        var s = String(decoding: data, as: UTF8.self)
        while s.hasSuffix("\n") || s.hasSuffix("\r") { s.removeLast() }
        guard !s.isEmpty else { throw TriageError(.credential, "the secret file \(path) is empty") }
        return Secret(s)
    }
}

/// One problem found in a config file: where it is (file, line when known, key path) and what is wrong.
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public var severity: Severity
    public var file: String
    public var line: Int?
    /// Dotted key path with array indexes, e.g. `mailbox[1].url`; empty for the file as a whole.
    public var keyPath: String
    public var message: String

    public init(_ severity: Severity, file: String, line: Int?, keyPath: String, _ message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    /// `file:line: error: key.path: message`, the form compilers use, so editors can jump to it.
    public var description: String {
        let loc = line.map { "\(file):\($0)" } ?? file
        let key = keyPath.isEmpty ? "" : "\(keyPath): "
        return "\(loc): \(severity.rawValue): \(key)\(message)"
    }
}

/// Thrown when a config cannot be used; carries every diagnostic found, errors and warnings.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]
    public var description: String {
        diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "\n")
    }
}

import CCurl
import Foundation
import TriageCore

/// The IMAP commands mailtriage needs, over one kept libcurl connection (see the field notes: every
/// command is one perform; SELECT is libcurl's own, never a custom command).
final class IMAPConnection: IMAPClient {
    struct Settings {
        var url: IMAPURL
        var username: String
        var password: Secret
        /// An OAuth2 access token instead of the password.
        var bearer: Secret? = nil
        var caFile: String?
        var connectTimeout: Duration
        var responseTimeout: Duration
        /// Set on shutdown to abort a transfer in progress.
        var abort: AbortFlag? = nil

        /// A libcurl handle with this server's login, TLS (verification on) and timeouts.
        func makeHandle() throws -> CurlHandle {
            let curl = try CurlHandle()
            curl.buffers.abort = abort
            curl.configureTransport(
                username: username, password: password, bearer: bearer, caFile: caFile, requireStartTLS: url.security == .startTLS,
                connectTimeout: connectTimeout, responseTimeout: responseTimeout)
            return curl
        }
    }

    let settings: Settings
    private let curl: CurlHandle
    var capabilities: Set<String>?
    var knownFolders: Set<String> = []
    /// Every command is its own transfer, and libcurl cuts long response lines: commands cover few UIDs.
    let uidsPerCommand = (search: 2_000, info: 100, store: 100)

    init(settings: Settings) throws {
        self.settings = settings
        curl = try settings.makeHandle()
    }

    private var folderURL: String { "\(server)/\(IMAPConnection.encodePath(settings.url.folder))" }

    /// Percent-encodes a folder name for the URL path (libcurl decodes it again).
    static func encodePath(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// Runs one transfer, retrying once when a kept connection turns out to be dead.
    private func run(url: String, custom: String?, bodyLimit: Int = 64 << 20, what: String) throws -> TransferBuffers {
        var attempt = 0
        while true {
            attempt += 1
            curl.buffers.reset()
            curl.buffers.bodyLimit = bodyLimit
            ccurl_setopt_string(curl.handle, CURLOPT_URL, url)
            if let custom {
                ccurl_setopt_string(curl.handle, CURLOPT_CUSTOMREQUEST, custom)
            } else {
                ccurl_setopt_ptr(curl.handle, CURLOPT_CUSTOMREQUEST, nil)
            }
            ccurl_setopt_long(curl.handle, CURLOPT_UPLOAD, 0)
            let (code, message) = curl.perform()
            if code == CURLE_OK { return curl.buffers }
            if curl.buffers.overLimit {
                throw TriageError.limit("\(what): response size", limit: bodyLimit, actual: curl.buffers.body.count)
            }
            if attempt == 1 && (code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING) {
                continue
            }
            let said = IMAPResponse.refusal(IMAPResponse.lines(curl.buffers.header))
            throw TriageError.curl(code, message, context: "\(server) \(what)", serverSaid: said)
        }
    }

    /// A custom command; returns the untagged response lines. `selected`: run it with the folder selected.
    @discardableResult
    func command(_ cmd: String, selected: Bool) throws -> [Substring] {
        let verb = cmd.split(separator: " ").prefix(2).joined(separator: " ")
        let b = try run(url: selected ? folderURL : server + "/", custom: cmd, what: verb)
        return IMAPResponse.lines(b.body)
    }

    /// The message bytes exactly as stored on the server (BODY[], which also sets \Seen).
    func fetch(uid: UInt32, headerOnly: Bool, limit: Int) throws -> [UInt8] {
        let section = headerOnly ? "/;SECTION=HEADER" : ""
        let b = try run(url: "\(folderURL)/;UID=\(uid)\(section)", custom: nil, bodyLimit: limit, what: "FETCH UID \(uid)")
        return b.body
    }

    /// One message at a time, each its own transfer; stops after the first error about the connection.
    func download(_ requests: [DownloadRequest], progress: () -> Void) -> [DownloadResult] {
        var out: [DownloadResult] = []
        for r in requests {
            do {
                out.append(.success(try fetch(uid: r.uid, headerOnly: r.headerOnly, limit: r.limit)))
                progress()
            } catch {
                let e = error as? TriageError ?? TriageError(.io, "\(error)", transient: true)
                out.append(.failure(e))
                if e.isAboutTheConnection { break }
            }
        }
        return out
    }

    var connectionsOpened: Int { curl.numConnects }
}

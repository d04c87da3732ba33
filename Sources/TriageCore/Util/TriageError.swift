#if canImport(Glibc)
import Glibc
#endif

/// An error that crosses a module boundary: a stable code and a message a person can act on.
public struct TriageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable, machine-readable kinds of failure.
    public enum Code: String, Sendable, Codable {
        case config, authentication, connection, tls, timeout, protocolError = "protocol", serverRefused
        case limitExceeded = "limit", notFound = "not_found", storage, io, credential, model
        /// The file system holding the database or another file the daemon writes is full (SQLITE_FULL,
        /// ENOSPC, EDQUOT): nothing is fetched until there is room again.
        case diskFull = "disk_full"
        /// An agent's action that conflicts with the ticket's state or another agent's claim.
        case conflict
    }

    public var code: Code
    public var message: String
    /// True when trying again later may succeed (network trouble, a busy server).
    public var isTransient: Bool

    public init(_ code: Code, _ message: String, transient: Bool = false) {
        self.code = code
        self.message = message
        self.isTransient = transient
    }

    public var description: String { message }

    /// A failure of the connection rather than of one message (transient, or a TLS reset, a login, a token
    /// or a timeout): it ends the cycle and is retried; it never counts against a message's download attempts.
    public var isAboutTheConnection: Bool {
        isTransient || [.tls, .connection, .timeout, .authentication, .credential].contains(code)
    }

    /// A failure to log in (refused login or token, token endpoint, TLS): an outage of the connection that
    /// no message is to blame for. Sending waits for it to end instead of failing answers.
    public var isLoginFailure: Bool {
        [.tls, .authentication, .credential].contains(code)
    }

    /// True for a full disk or an exhausted quota.
    public var isDiskFull: Bool { code == .diskFull }

    /// The code for a failed write whose system error was `errno`: `.diskFull` for ENOSPC and EDQUOT, else `fallback`.
    public static func code(forWriteErrno errno: Int32, fallback: Code) -> Code {
        errno == ENOSPC || errno == EDQUOT ? .diskFull : fallback
    }

    /// A limit error carries the limit and the actual value in its message.
    public static func limit(_ what: String, limit: Int, actual: Int) -> TriageError {
        TriageError(.limitExceeded, "\(what) is \(actual), over the limit of \(limit)")
    }
}

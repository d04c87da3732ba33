import CCurl
import Glibc
import TriageCore

/// One IMAP connection with pipelined commands. libcurl opens it in CONNECT_ONLY mode and does everything up to
/// the login itself (TCP, TLS with verification, STARTTLS, CAPABILITY, AUTHENTICATE with the password or the
/// OAuth2 bearer token; checked with libcurl 7.88: CONNECT_ONLY stops after the protocol's connect phase, which
/// for IMAP includes the login). From there commands go out with `curl_easy_send` and responses come back through
/// `curl_easy_recv` into an `IMAPReplyReader`, so that one `UID FETCH` returns a whole batch of messages and the
/// next command is on its way before the last answer arrives. libcurl keeps owning the socket and TLS.
final class IMAPSession: IMAPClient {
    let settings: IMAPConnection.Settings
    var capabilities: Set<String>?
    var knownFolders: Set<String> = []
    /// Responses are read by our own reader, which bounds a line by size, not by libcurl's buffer.
    let uidsPerCommand = (search: 20_000, info: 5_000, store: 1_000)
    /// UIDs one `UID FETCH` of message bodies asks for.
    static let uidsPerFetch = 500
    private(set) var connectionsOpened = 0
    private var connectsPending = 1

    private let curl: CurlHandle
    private let socket: curl_socket_t
    private var reader = IMAPReplyReader()
    private var readBuffer = [UInt8](repeating: 0, count: 256 << 10)
    private var lastTag = 0
    private var selected = false

    init(settings: IMAPConnection.Settings) throws {
        self.settings = settings
        curl = try settings.makeHandle()
        ccurl_setopt_string(curl.handle, CURLOPT_URL, settings.url.serverURL + "/")
        ccurl_setopt_long(curl.handle, CURLOPT_CONNECT_ONLY, 1)
        let (code, message) = curl.perform()
        let server = settings.url.serverURL
        guard code == CURLE_OK else {
            throw TriageError.curl(code, message, context: "\(server) login", serverSaid: IMAPResponse.refusal(IMAPResponse.lines(curl.buffers.header)))
        }
        var fd: curl_socket_t = -1
        guard ccurl_getinfo_socket(curl.handle, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK, fd >= 0 else {
            throw TriageError(.connection, "\(server): libcurl gave no socket after the login", transient: true)
        }
        socket = fd
    }

    // MARK: - Commands

    @discardableResult
    func command(_ cmd: String, selected needsFolder: Bool) throws -> [Substring] {
        startCommand()
        if needsFolder { try select() }
        var lines: [Substring] = []
        let tag = try send([cmd]).first!
        let done = try readUntilTagged(tag) { lines.append(Substring("* " + $0.text)) }
        try IMAPSession.check(done, what: cmd.split(separator: " ").prefix(2).joined(separator: " "), server: server)
        return lines
    }

    func fetch(uid: UInt32, headerOnly: Bool, limit: Int) throws -> [UInt8] {
        let results = download([DownloadRequest(uid: uid, headerOnly: headerOnly, limit: limit)], progress: {})
        guard let result = results.first else { throw TriageError(.notFound, "\(server): UID \(uid) is not on the server") }
        return try result.get()
    }

    /// The requests as `UID FETCH` commands of up to `uidsPerFetch` UIDs (consecutive requests of the same kind
    /// share a command), all sent at once; the replies are matched to the requests by UID.
    func download(_ requests: [DownloadRequest], progress: () -> Void) -> [DownloadResult] {
        guard !requests.isEmpty else { return [] }
        startCommand()
        struct Pending { var uids: Set<UInt32>; var limit: Int; var text: String; var refusal: String? }
        var commands: [Pending] = []
        var i = 0
        while i < requests.count {
            var j = i
            while j + 1 < requests.count && j + 1 - i < IMAPSession.uidsPerFetch
                && requests[j + 1].headerOnly == requests[i].headerOnly && requests[j + 1].limit == requests[i].limit { j += 1 }
            let uids = requests[i...j].map(\.uid)
            let section = requests[i].headerOnly ? "BODY.PEEK[HEADER]" : "BODY.PEEK[]"
            commands.append(Pending(uids: Set(uids), limit: requests[i].limit,
                                    text: "UID FETCH \(IMAPResponse.sequenceSet(uids)) (UID \(section))"))
            i = j + 1
        }
        var got: [UInt32: DownloadResult] = [:]
        var broken: TriageError?
        // Dovecot may run pipelined FETCH commands side by side: replies are matched by UID and tag, in any order,
        // and every literal is read up to the largest limit of the batch, then held to its own request's limit.
        var commandOf: [UInt32: Int] = [:]
        for (k, c) in commands.enumerated() { for uid in c.uids { commandOf[uid] = k } }
        reader.maxLiteralBytes = commands.map(\.limit).max() ?? 0
        do {
            try select()
            let tags = try send(commands.map(\.text))
            var open = Dictionary(uniqueKeysWithValues: tags.enumerated().map { ($1, $0) })
            while !open.isEmpty {
                let reply = try readReply()
                switch reply.kind {
                case .tagged(let tag):
                    guard let k = open.removeValue(forKey: tag) else {
                        throw TriageError(.protocolError, "\(server): a reply tagged \(tag), which no command has", transient: true)
                    }
                    if reply.status != "OK" { commands[k].refusal = reply.text }
                case .continuation:
                    throw TriageError(.protocolError, "\(server): an unexpected continuation request", transient: true)
                case .untagged:
                    if reply.status == "BYE" {
                        throw TriageError(.connection, "\(server): the server closed the connection: \(reply.text)", transient: true)
                    }
                    guard let f = reply.fetchData, let uid = f.uid, let k = commandOf[uid], let body = f.body else { continue }
                    let limit = commands[k].limit
                    switch body {
                    case .inline(let bytes) where bytes.count <= limit:
                        got[uid] = .success(bytes)
                    case .literal(let n) where !reply.literals[n].dropped && reply.literals[n].announced <= limit:
                        got[uid] = .success(reply.literals[n].bytes)
                    case .inline(let bytes):
                        got[uid] = .failure(TriageError.limit("UID \(uid): message size", limit: limit, actual: bytes.count))
                    case .literal(let n):
                        got[uid] = .failure(TriageError.limit("UID \(uid): message size", limit: limit, actual: reply.literals[n].announced))
                    }
                    progress()
                }
            }
        } catch {
            broken = error as? TriageError ?? TriageError(.io, "\(error)", transient: true)
        }
        reader.maxLiteralBytes = IMAPReplyReader().maxLiteralBytes
        // In request order. Without an answer: cut off when the connection broke (the list ends there: nothing is
        // held against a message for a broken connection), else refused or gone from the server.
        var out: [DownloadResult] = []
        for r in requests {
            if let res = got[r.uid] {
                out.append(res)
            } else if let broken {
                out.append(.failure(broken))
                break
            } else if let refusal = commands.first(where: { $0.uids.contains(r.uid) })?.refusal {
                out.append(.failure(TriageError(.serverRefused, "\(server) FETCH UID \(r.uid): server said \(refusal)")))
            } else {
                out.append(.failure(TriageError(.notFound, "\(server): UID \(r.uid) is no longer on the server")))
            }
        }
        return out
    }

    // MARK: - Protocol

    private func startCommand() {
        connectionsOpened = connectsPending
        connectsPending = 0
    }

    private func select() throws {
        guard !selected else { return }
        let tag = try send(["SELECT \(IMAPResponse.quoted(settings.url.folder))"]).first!
        let done = try readUntilTagged(tag) { _ in }
        guard done.status == "OK" else {
            throw TriageError(.notFound, "\(server): cannot select \(settings.url.folder): server said \(done.text)")
        }
        selected = true
    }

    /// Sends the commands in one write; returns their tags.
    private func send(_ commands: [String]) throws -> [String] {
        var tags: [String] = []
        var out: [UInt8] = []
        for c in commands {
            lastTag += 1
            let tag = "m\(lastTag)"
            tags.append(tag)
            out += Array("\(tag) \(c)\r\n".utf8)
        }
        var sent = 0
        while sent < out.count {
            var n = 0
            let rc = out.withUnsafeBytes { curl_easy_send(curl.handle, $0.baseAddress! + sent, $0.count - sent, &n) }
            if rc == CURLE_AGAIN {
                try wait(for: Int16(POLLOUT))
                continue
            }
            guard rc == CURLE_OK else { throw failure(rc, "sending") }
            sent += n
        }
        return tags
    }

    /// Reads responses up to the one tagged `tag`, handing every untagged one to `untagged`.
    private func readUntilTagged(_ tag: String, _ untagged: (IMAPReply) throws -> Void) throws -> IMAPReply {
        while true {
            let r = try readReply()
            switch r.kind {
            case .tagged(tag):
                return r
            case .tagged(let other):
                throw TriageError(.protocolError, "\(server): a reply tagged \(other) while waiting for \(tag)", transient: true)
            case .continuation:
                throw TriageError(.protocolError, "\(server): an unexpected continuation request", transient: true)
            case .untagged:
                if r.status == "BYE" {
                    throw TriageError(.connection, "\(server): the server closed the connection: \(r.text)", transient: true)
                }
                try untagged(r)
            }
        }
    }

    private func readReply() throws -> IMAPReply {
        while true {
            if let r = try reader.next() { return r }
            var n = 0
            let rc = readBuffer.withUnsafeMutableBytes { curl_easy_recv(curl.handle, $0.baseAddress!, $0.count, &n) }
            if rc == CURLE_AGAIN {
                try wait(for: Int16(POLLIN))
                continue
            }
            guard rc == CURLE_OK else { throw failure(rc, "receiving") }
            if n == 0 { throw TriageError(.connection, "\(server): the server closed the connection", transient: true) }
            readBuffer.withUnsafeBytes { reader.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Waits until the socket is ready, in slices of a second so that shutdown (the abort flag) is seen;
    /// no progress for the response timeout ends the connection.
    private func wait(for events: Int16) throws {
        let clock = ContinuousClock()
        let deadline = clock.now + settings.responseTimeout
        while true {
            if settings.abort?.isSet == true { throw TriageError(.connection, "\(server): aborted for shutdown", transient: true) }
            var p = pollfd(fd: socket, events: events, revents: 0)
            let rc = poll(&p, 1, 1000)
            if rc > 0 { return }
            if rc < 0 && errno != EINTR { throw TriageError(.connection, "\(server): poll failed (errno \(errno))", transient: true) }
            if clock.now >= deadline {
                throw TriageError(.timeout, "\(server): timed out: no answer within \(settings.responseTimeout)", transient: true)
            }
        }
    }

    private func failure(_ rc: CURLcode, _ what: String) -> TriageError {
        TriageError.curl(rc, String(cString: curl_easy_strerror(rc)), context: "\(server) \(what)", serverSaid: nil)
    }

    /// A tagged NO or BAD as the same error a refused libcurl command gives.
    static func check(_ done: IMAPReply, what: String, server: String) throws {
        guard done.status != "OK" else { return }
        throw TriageError(.serverRefused, "\(server) \(what): server said \(done.text)")
    }
}

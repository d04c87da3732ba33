import CCurl
import Foundation
import TriageCore

/// Collects what libcurl hands to its callbacks during one perform.
final class TransferBuffers {
    /// Write callback: a fetched message literal, or the untagged lines of a custom command.
    var body: [UInt8] = []
    /// Header callback: every protocol line (greeting, capabilities, tagged OK/NO).
    var header: [UInt8] = []
    /// Stops a transfer that grows beyond this many bytes (a server lying about a size).
    var bodyLimit = Int.max
    var overLimit = false
    /// Upload source for SMTP and APPEND.
    var upload: [UInt8] = []
    var uploadOffset = 0
    /// Checked about once a second by the progress callback; set on shutdown.
    var abort: AbortFlag?

    func reset() {
        body.removeAll(keepingCapacity: true)
        header.removeAll(keepingCapacity: true)
        overLimit = false
    }
}

/// One libcurl easy handle: one connection that stays open across performs. Not thread-safe: owned by
/// exactly one actor.
final class CurlHandle {
    let handle: UnsafeMutableRawPointer
    let buffers = TransferBuffers()
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    init() throws {
        _ = CurlHandle.globalInit
        guard let h = curl_easy_init() else { throw TriageError(.io, "libcurl could not create a handle") }
        handle = h
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let ud = Unmanaged.passUnretained(buffers).toOpaque()
        ccurl_setopt_ptr(h, CURLOPT_ERRORBUFFER, errorBuffer)
        ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        // Long server lines are cut silently at BUFFERSIZE/2; keep the buffer large (see the field notes).
        ccurl_setopt_long(h, CURLOPT_BUFFERSIZE, 512 * 1024)
        ccurl_setopt_datacb(h, CURLOPT_WRITEFUNCTION, { ptr, size, nmemb, ud in
            let n = size * nmemb
            let b = Unmanaged<TransferBuffers>.fromOpaque(ud!).takeUnretainedValue()
            if b.body.count + n > b.bodyLimit {
                b.overLimit = true
                return 0  // aborts the transfer with CURLE_WRITE_ERROR
            }
            if let ptr, n > 0 { b.body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: n)) }
            return n
        })
        ccurl_setopt_ptr(h, CURLOPT_WRITEDATA, ud)
        ccurl_setopt_datacb(h, CURLOPT_HEADERFUNCTION, { ptr, size, nmemb, ud in
            let n = size * nmemb
            let b = Unmanaged<TransferBuffers>.fromOpaque(ud!).takeUnretainedValue()
            if let ptr, n > 0, b.header.count < 1 << 20 {
                b.header.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: n))
            }
            return n
        })
        ccurl_setopt_ptr(h, CURLOPT_HEADERDATA, ud)
        ccurl_setopt_datacb(h, CURLOPT_READFUNCTION, { ptr, size, nmemb, ud in
            let b = Unmanaged<TransferBuffers>.fromOpaque(ud!).takeUnretainedValue()
            let n = min(size * nmemb, b.upload.count - b.uploadOffset)
            guard let ptr, n > 0 else { return 0 }
            b.upload.withUnsafeBytes { src in
                UnsafeMutableRawPointer(ptr).copyMemory(from: src.baseAddress! + b.uploadOffset, byteCount: n)
            }
            b.uploadOffset += n
            return n
        })
        ccurl_setopt_ptr(h, CURLOPT_READDATA, ud)
        // The progress callback runs at least once a second, also while waiting for a silent server:
        // it lets shutdown abort a transfer in progress.
        ccurl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        ccurl_setopt_xferinfo(h, CURLOPT_XFERINFOFUNCTION, { ud, _, _, _, _ in
            let b = Unmanaged<TransferBuffers>.fromOpaque(ud!).takeUnretainedValue()
            return b.abort?.isSet == true ? 1 : 0
        })
        ccurl_setopt_ptr(h, CURLOPT_XFERINFODATA, ud)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// TLS and timeout settings shared by the IMAP and SMTP clients. Verification is always on.
    /// With a `bearer` token libcurl logs in with OAUTHBEARER or XOAUTH2, whichever the server offers.
    func configureTransport(username: String, password: Secret, bearer: Secret? = nil, caFile: String?, requireStartTLS: Bool,
                            connectTimeout: Duration, responseTimeout: Duration)
    {
        ccurl_setopt_string(handle, CURLOPT_USERNAME, username)
        if let bearer { ccurl_setopt_string(handle, CURLOPT_XOAUTH2_BEARER, bearer.reveal()) }
        else { ccurl_setopt_string(handle, CURLOPT_PASSWORD, password.reveal()) }
        ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile { ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if requireStartTLS { ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout.milliseconds))
        ccurl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, max(1, Int(responseTimeout.milliseconds / 1000)))
        // A transfer that stalls (under 1 byte/s) for the response timeout is abandoned.
        ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(responseTimeout.milliseconds / 1000)))
    }

    /// Runs one transfer; returns the curl code and libcurl's error text.
    func perform() -> (code: CURLcode, message: String) {
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        var msg = String(cString: errorBuffer)
        if msg.isEmpty { msg = String(cString: curl_easy_strerror(code)) }
        return (code, msg)
    }

    var numConnects: Int {
        var n = 0
        ccurl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &n)
        return n
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension TriageError {
    /// Maps a libcurl failure to a stable error code and says whether retrying may help.
    static func curl(_ code: CURLcode, _ message: String, context: String, serverSaid: String?) -> TriageError {
        let said = serverSaid.map { " (server said: \($0))" } ?? ""
        let text = "\(context): \(message)\(said)"
        switch code {
        case CURLE_ABORTED_BY_CALLBACK:
            return TriageError(.connection, "\(context): aborted for shutdown", transient: true)
        case CURLE_LOGIN_DENIED:
            return TriageError(.authentication, "\(context): login denied\(said)")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
             CURLE_WEIRD_SERVER_REPLY, CURLE_PARTIAL_FILE:
            return TriageError(.connection, text, transient: true)
        case CURLE_OPERATION_TIMEDOUT:
            return TriageError(.timeout, text, transient: true)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_USE_SSL_FAILED,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return TriageError(.tls, "\(context): TLS failed: \(message)")
        case CURLE_QUOTE_ERROR, CURLE_UPLOAD_FAILED:
            return TriageError(.serverRefused, text)
        case CURLE_REMOTE_FILE_NOT_FOUND:
            return TriageError(.notFound, text)
        default:
            return TriageError(.protocolError, "\(text) [curl \(code.rawValue)]", transient: true)
        }
    }
}

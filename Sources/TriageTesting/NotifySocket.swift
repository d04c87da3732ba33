import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`, for tests of readiness, reload and
/// stopping notifications.
public final class NotifySocket {
    public let path: String
    let fd: Int32

    /// Binds a fresh socket in the temporary directory; `receive()` waits at most `timeout` seconds.
    public init(timeout: Int = 20) throws {
        path = NSTemporaryDirectory() + "mt-notify-\(UUID().uuidString.prefix(8)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in path.utf8.enumerated() { p[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next datagram, or nil when none came in time. Blocks: for tests that run outside the
    /// cooperative pool's concerns (a separate process sends).
    public func receive() -> String? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        return n < 0 ? nil : String(decoding: buf[0..<n], as: UTF8.self)
    }

    /// The next datagram without holding a thread while waiting (the sender may be a task of this process).
    /// Generous: on two busy cores, tests that train models can hold the cooperative pool for a minute and more
    /// (seen at a load of 20-30); only a failing test waits this long.
    public func next(timeout: Duration = .seconds(240)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        var buf = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
            if n >= 0 { return String(decoding: buf[0..<n], as: UTF8.self) }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }
}

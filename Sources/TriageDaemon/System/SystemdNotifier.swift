#if canImport(Glibc)
import Glibc
#endif
public import Foundation
public import Logging
public import ServiceLifecycle
import TriageCore

/// sd_notify(3) without libsystemd: datagrams to `$NOTIFY_SOCKET` ("READY=1", "STOPPING=1", "WATCHDOG=1").
/// Does nothing when the variable is unset (not started by systemd with Type=notify).
public struct SystemdNotifier: Sendable {
    let socketPath: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public var isActive: Bool { socketPath != nil }

    /// Sends one state line; returns false if it could not be delivered.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        #if canImport(Glibc)
        guard let path = socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
        }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let sent = state.utf8CString.withUnsafeBufferPointer { msg in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, msg.baseAddress, msg.count - 1, Int32(MSG_NOSIGNAL), $0, len)
                }
            }
        }
        return sent >= 0
        #else
        return false
        #endif
    }

    /// CLOCK_MONOTONIC in microseconds, for `RELOADING=1`.
    public static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }

    /// Half the watchdog interval systemd asked for, if it asked (`WATCHDOG_USEC`).
    public static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration? {
        guard let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return .microseconds(usec / 2)
    }
}

/// Tells systemd when the daemon is ready, feeds its watchdog only while the loops make progress (a loop
/// that hangs past its budget stops the feeding, and systemd restarts the daemon), keeps a `STATUS=` line a
/// person reads in `systemctl status`, and says when it is stopping.
public struct SystemdNotifyService: Service {
    let notifier: SystemdNotifier
    let watchdog: Duration?
    let status: @Sendable () -> String
    let liveness: Liveness?
    let clock: any Clock<Duration>
    let logger: Logger?

    public init(notifier: SystemdNotifier = SystemdNotifier(), watchdog: Duration? = SystemdNotifier.watchdogInterval(),
                status: @escaping @Sendable () -> String = { "polling mailboxes" }, liveness: Liveness? = nil,
                clock: any Clock<Duration> = ContinuousClock(), logger: Logger? = nil)
    {
        self.notifier = notifier
        self.watchdog = watchdog
        self.status = status
        self.liveness = liveness
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        // The status line costs a query of the store: only worked out when systemd is there to read it.
        if notifier.isActive { notifier.notify("READY=1\nSTATUS=\(status())") }
        var reported = false
        while !Task.isShuttingDownGracefully {
            let hung = liveness?.hung() ?? []
            if hung.isEmpty {
                if notifier.isActive { notifier.notify((watchdog == nil ? "" : "WATCHDOG=1\n") + "STATUS=\(status())") }
                reported = false
            } else {
                let what = hung.map { "\($0.name) without progress for \(DurationText.format(.seconds($0.silent.components.seconds)))" }
                    .joined(separator: ", ")
                notifier.notify("STATUS=hung: \(what)")
                if !reported {
                    logger?.critical("no progress: the watchdog is not fed", metadata: ["loops": "\(what)"])
                    reported = true
                }
            }
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: watchdog ?? .seconds(30)) } } catch { break }
        }
        notifier.notify("STOPPING=1")
    }
}

public import Foundation
public import Logging

/// Log lines on standard error. Under systemd (`$JOURNAL_STREAM` set) each line starts with its syslog
/// priority (`<4>` for a warning), so `journalctl -p warning` works, and carries no timestamp of its own
/// (the journal adds one). Elsewhere: `2026-12-01T10:00:00Z warning mailtriage: message key=value`.
/// Structured metadata stays as `key=value` pairs, sorted by key.
public struct TriageLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let journal: Bool

    public init(label: String, level: Logger.Level, journal: Bool) {
        self.label = label
        logLevel = level
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The syslog priority of a level (sd-daemon(3)).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    public func line(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, now: Date = Date()) -> String {
        let all = extra.map { metadata.merging($0) { $1 } } ?? metadata
        let pairs = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // One record per line: a message with line breaks would otherwise become several journal entries.
        let text = "\(message)".replacingOccurrences(of: "\n", with: " ⏎ ") + (pairs.isEmpty ? "" : " " + pairs)
        if journal { return "<\(Self.priority(level))>\(text)" }
        return "\(ClockText.utc(Int64(now.timeIntervalSince1970.rounded(.down)))) \(level) \(label): \(text)"
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
                    function: String, line: UInt)
    {
        FileHandle.standardError.write(Data((self.line(level: level, message: message, metadata: metadata) + "\n").utf8))
    }
}

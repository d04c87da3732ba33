/// A password or token: its description is redacted, so no log line, error message or string interpolation
/// can print it; only `reveal()` hands it out, where it is given to libcurl.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, ExpressibleByStringLiteral {
    private let value: String

    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }

    public func reveal() -> String { value }
    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

// libFuzzer entry point for TriageMIME. Built outside SwiftPM together with the TriageMIME sources
// (see `make fuzz`): swiftc -sanitize=fuzzer,address -parse-as-library Sources/TriageMIME/*.swift Fuzz/FuzzMIME.swift

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIME(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = ParseLimits(maxMessageBytes: 1 << 20, maxDepth: 16, maxParts: 200, maxDecodedBytes: 1 << 20)
    let m = MIMEParser.parse(bytes, limits: limits)
    // Invariants every result keeps, whatever the input.
    precondition(m.partCount >= 1 && m.partCount <= limits.maxParts, "part count \(m.partCount)")
    precondition(m.depth <= limits.maxDepth, "depth \(m.depth)")
    precondition(m.text.utf8.count <= limits.maxDecodedBytes * 4, "text larger than the decoded limit allows")
    precondition(m.attachments.allSatisfy { $0.size >= 0 })
    // The pieces also run on the raw bytes as text, where inputs are most hostile.
    let text = String(decoding: bytes.prefix(64 * 1024), as: UTF8.self)
    _ = HTMLText.toText(text)
    _ = QuoteStripper.newText(text)
    _ = MailAddress.parseList(text)
    _ = MailDate.parse(text)
    _ = EncodedWords.decode(text)
    _ = HeaderParameters(parsing: text)
    return 0
}

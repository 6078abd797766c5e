/// Limits that bound the work and memory the parser spends on one message, so hostile or broken mail
/// (endless nesting, millions of parts, huge headers) finishes quickly instead of stalling the gateway.
public struct ParseOptions: Sendable {
    /// Maximum bytes of one header block (top level or any part); the rest of an oversized block is skipped.
    public var maxHeaderBytes: Int = 256 * 1024
    /// Maximum number of header fields kept per header block.
    public var maxHeaderFields: Int = 2_000
    /// Maximum number of MIME parts (all levels); further parts are not parsed.
    public var maxParts: Int = 1_000
    /// Maximum nesting depth of multiparts and attached messages; deeper content is kept as an opaque leaf.
    public var maxDepth: Int = 30
    /// Maximum total decoded bytes of all parts; parts past the budget keep their size but carry no data.
    public var maxDecodedBytes: Int = 64 * 1024 * 1024
    /// Maximum bytes of HTML converted to text when a message has no plain-text part.
    public var maxHTMLBytesForText: Int = 8 * 1024 * 1024

    public init() {}
}

/// `message/partial` reassembly (RFC 2046 section 5.2.2): a few old clients and gateways still split large mail
/// into numbered fragments, and only the whole message can become a ticket.
extension MailParser {
    /// The `message/partial` parameters of a raw message, or nil when it is not a fragment.
    public struct PartialInfo: Sendable, Hashable {
        /// The `id` shared by all fragments of one message.
        public var id: String
        /// This fragment's 1-based number.
        public var number: Int
        /// The number of fragments; only required on the last one.
        public var total: Int?
    }

    /// Reads the `message/partial` parameters of a raw message.
    public static func partialInfo(_ bytes: [UInt8]) -> PartialInfo? {
        bytes.withUnsafeBufferPointer { b in
            var diagnostics: [String] = []
            let block = parseHeaderBlock(
                b, start: 0, end: b.count, topLevel: true, options: ParseOptions(), diagnostics: &diagnostics)
            return partialInfo(block.fields)
        }
    }

    private static func partialInfo(_ fields: [HeaderField]) -> PartialInfo? {
        var diagnostics: [String] = []
        guard let raw = fields.first(where: { $0.name.caseInsensitiveEquals("content-type") })?.rawValue,
            let type = ContentType.parse(raw, diagnostics: &diagnostics), type.mimeType == "message/partial",
            let id = type.parameters["id"], !id.isEmpty,
            let number = type.parameters["number"].flatMap({ Int($0.trimmingBlanks()) }), number >= 1
        else { return nil }
        return PartialInfo(id: id, number: number, total: type.parameters["total"].flatMap { Int($0.trimmingBlanks()) })
    }

    /// Joins the fragments of one `message/partial` message (in any order) into the original raw message; nil
    /// unless every fragment from 1 to `total` is present exactly once and all share one `id`.
    ///
    /// Headers follow RFC 2046: the first fragment's outer fields except `Content-*`, `Subject`, `Message-ID`,
    /// `Encrypted` and `MIME-Version`, then those fields from the enclosed message; the other fragments' headers
    /// are dropped.
    public static func reassemble(_ parts: [[UInt8]], options: ParseOptions = .init()) -> [UInt8]? {
        guard !parts.isEmpty, parts.count <= options.maxParts else { return nil }
        var fragments: [(info: PartialInfo, fields: [HeaderField], body: ArraySlice<UInt8>)] = []
        for raw in parts {
            let parsed: (PartialInfo, [HeaderField], Int)? = raw.withUnsafeBufferPointer { b in
                var diagnostics: [String] = []
                let block = parseHeaderBlock(
                    b, start: 0, end: b.count, topLevel: true, options: options, diagnostics: &diagnostics)
                guard let info = partialInfo(block.fields) else { return nil }
                return (info, block.fields, block.bodyStart)
            }
            guard let (info, fields, bodyStart) = parsed else { return nil }
            fragments.append((info, fields, raw[bodyStart...]))
        }
        fragments.sort { $0.info.number < $1.info.number }
        let id = fragments[0].info.id
        guard let total = fragments.compactMap(\.info.total).first, total == fragments.count,
            fragments.allSatisfy({ $0.info.id == id }),
            fragments.enumerated().allSatisfy({ $0.offset + 1 == $0.element.info.number })
        else { return nil }

        var enclosed: [UInt8] = []
        enclosed.reserveCapacity(fragments.reduce(0) { $0 + $1.body.count })
        for fragment in fragments { enclosed.append(contentsOf: fragment.body) }

        return enclosed.withUnsafeBufferPointer { b -> [UInt8] in
            var diagnostics: [String] = []
            let inner = parseHeaderBlock(
                b, start: 0, end: b.count, topLevel: true, options: options, diagnostics: &diagnostics)
            let eol: [UInt8] =
                enclosed.firstIndex(of: 10).map { $0 > 0 && enclosed[$0 - 1] == 13 } == true ? [13, 10] : [10]
            func fromEnclosed(_ name: String) -> Bool {
                let lower = name.asciiLowercased()
                return lower.hasPrefix("content-")
                    || ["subject", "message-id", "encrypted", "mime-version"].contains(lower)
            }
            var out: [UInt8] = []
            out.reserveCapacity(enclosed.count + 1024)
            for field in fragments[0].fields where !fromEnclosed(field.name) {
                out.append(contentsOf: Array("\(field.name): \(field.rawValue)".utf8) + eol)
            }
            for field in inner.fields where fromEnclosed(field.name) {
                out.append(contentsOf: Array("\(field.name): \(field.rawValue)".utf8) + eol)
            }
            out.append(contentsOf: eol)
            out.append(contentsOf: enclosed[inner.bodyStart...])
            return out
        }
    }
}

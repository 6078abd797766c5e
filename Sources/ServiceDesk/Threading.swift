import MailFormat

/// What the store knows that bears on where a mail belongs; gathered by the gateway, judged here without I/O.
public struct ThreadingEvidence: Sendable, Equatable {
    /// The ticket that owns one of the Message-IDs named in In-Reply-To/References, if any.
    public var referencedTicket: TicketID?
    /// A ticket tag found in the subject, and whether that ticket exists with its participants (lowercased).
    public var subjectTag: TicketID?
    public var taggedTicketParticipants: Set<String>?
    /// A signed reference marker found in the body (layer 4), and that ticket's participants if it exists.
    public var bodyReference: TicketID?
    public var referencedTicketParticipants: Set<String>?

    public init(
        referencedTicket: TicketID? = nil, subjectTag: TicketID? = nil, taggedTicketParticipants: Set<String>? = nil,
        bodyReference: TicketID? = nil, referencedTicketParticipants: Set<String>? = nil
    ) {
        self.referencedTicket = referencedTicket
        self.subjectTag = subjectTag
        self.taggedTicketParticipants = taggedTicketParticipants
        self.bodyReference = bodyReference
        self.referencedTicketParticipants = referencedTicketParticipants
    }
}

/// Where a mail goes, with the reason kept for the audit line.
public enum ThreadingDecision: Sendable, Equatable {
    case existing(TicketID, reason: String)
    case new(reason: String)
}

/// Layered threading: references first, then a subject tag accepted only from participants or agents.
public enum Threading {
    public static func decide(_ evidence: ThreadingEvidence, sender: String, senderIsAgent: Bool) -> ThreadingDecision {
        if let ticket = evidence.referencedTicket {
            return .existing(ticket, reason: "In-Reply-To/References name a mail of \(ticket)")
        }
        var refused: String?
        if let tag = evidence.subjectTag {
            if let participants = evidence.taggedTicketParticipants {
                if senderIsAgent || participants.contains(sender.lowercased()) {
                    return .existing(tag, reason: "subject tag \(tag) from a participant")
                }
                refused = "subject tag \(tag) from \(sender), who is not a participant"
            } else {
                refused = "subject names \(tag), which does not exist"
            }
        }
        if let reference = evidence.bodyReference, let participants = evidence.referencedTicketParticipants {
            if senderIsAgent || participants.contains(sender.lowercased()) {
                return .existing(reference, reason: "signed reference \(reference) in the body from a participant")
            }
            refused = (refused.map { $0 + "; " } ?? "") + "body reference \(reference) from a non-participant"
        }
        return .new(reason: refused ?? "no reference to a known ticket")
    }

    /// Ticket tags in a subject: `[INC-000042]`, also mangled as `[INC 42]`, `[ inc-000042 ]` or `(INC-000042)`.
    public static func subjectTags(_ subject: String) -> [TicketID] {
        var result: [TicketID] = []
        let scalars = Array(subject.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let open = scalars[index]
            guard open == "[" || open == "(" else {
                index += 1
                continue
            }
            let close: Unicode.Scalar = open == "[" ? "]" : ")"
            var cursor = index + 1
            while cursor < scalars.count, scalars[cursor] == " " { cursor += 1 }
            var letters = ""
            while cursor < scalars.count, letters.count < 3, scalars[cursor].properties.isAlphabetic {
                letters.unicodeScalars.append(scalars[cursor])
                cursor += 1
            }
            while cursor < scalars.count, scalars[cursor] == "-" || scalars[cursor] == " " || scalars[cursor] == "#" {
                cursor += 1
            }
            var digits = ""
            while cursor < scalars.count, digits.count < 10, ("0"..."9").contains(scalars[cursor]) {
                digits.unicodeScalars.append(scalars[cursor])
                cursor += 1
            }
            while cursor < scalars.count, scalars[cursor] == " " { cursor += 1 }
            if cursor < scalars.count, scalars[cursor] == close, let kind = TicketKind(prefix: letters),
                let number = Int(digits), number > 0
            {
                result.append(TicketID(kind: kind, number: number))
                index = cursor + 1
            } else {
                index += 1
            }
        }
        return result
    }

    /// The subject without reply/forward prefixes (`Re:`, `AW:`, `WG:`, `Fwd:`, `SV:`, `VS:`, `RE :` …) and tags.
    public static func baseSubject(_ subject: String) -> String {
        // Most subjects have nothing to strip: no prefix (needs a colon), no tag (needs a bracket) and no outer blank
        // (an ASCII letter at both ends). Those are returned as they are, without a Foundation round trip.
        let bytes = subject.utf8
        if let first = bytes.first, let last = bytes.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last),
            !bytes.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "(") })
        {
            return subject
        }
        var text = subject.trimmingCharacters(in: .whitespaces)
        let prefixes = ["re", "aw", "wg", "fw", "fwd", "sv", "vs", "antw", "tr", "rif", "r", "odp", "ynt"]
        var changed = true
        while changed {
            changed = false
            for tag in subjectTags(text) {
                for form in ["[\(tag)]", "(\(tag))"] where text.hasPrefix(form) {
                    text = String(text.dropFirst(form.count)).trimmingCharacters(in: .whitespaces)
                    changed = true
                }
            }
            if let colon = text.firstIndex(of: ":") {
                var head = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                if let bracket = head.firstIndex(of: "["), head.hasSuffix("]") { head = String(head[..<bracket]) }
                if prefixes.contains(head) {
                    text = String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                    changed = true
                }
            }
        }
        return text
    }
}

extension MailAddress {
    /// The address lowercased for comparisons (local parts are treated case-insensitively, as every MTA here does).
    public var normalized: String { address.lowercased() }
}

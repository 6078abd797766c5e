/// A delivery status notification (RFC 3464) or message disposition notification (RFC 8098) in machine-readable
/// form, so a bounce can be attached to the ticket of the mail that failed and the failed recipient marked.
public struct DeliveryReport: Sendable, Equatable {
    /// Which kind of report this is.
    public enum Kind: String, Sendable, Equatable {
        case deliveryStatus = "delivery-status"
        case dispositionNotification = "disposition-notification"
    }

    /// The outcome for one recipient of the original mail.
    public struct Recipient: Sendable, Equatable {
        public var address: String
        /// RFC 3463 status code such as `5.1.1`.
        public var status: String?
        /// `failed`, `delayed`, `delivered`, `relayed` or `expanded`.
        public var action: String?
        public var diagnostic: String?

        /// A permanent failure: no point in mailing this address again until somebody fixes it.
        public var isPermanentFailure: Bool {
            (action == nil || action == "failed") && (status?.hasPrefix("5") ?? (action == "failed"))
        }

        public init(address: String, status: String? = nil, action: String? = nil, diagnostic: String? = nil) {
            self.address = address
            self.status = status
            self.action = action
            self.diagnostic = diagnostic
        }
    }

    public var kind: Kind
    /// True when the report was read from a human-readable bounce text (qmail, Exim, Exchange, Gmail …) rather
    /// than from RFC 3464 / RFC 8098 fields, so addresses and codes are best-effort.
    public var isFromText = false
    /// Message-ID (without brackets) of the mail this report is about.
    public var originalMessageID: String?
    public var recipients: [Recipient]
    /// For MDNs: the disposition (`displayed`, `deleted` …).
    public var disposition: String?

    /// Reads the report parts of a parsed message, or failing that a plain-text bounce from a mailer daemon; nil
    /// when it is neither a DSN, an MDN nor a recognisable bounce.
    public static func parse(_ message: MailMessage) -> DeliveryReport? {
        if let report = parseFields(message), !report.recipients.isEmpty || report.kind == .dispositionNotification {
            return report
        }
        return parseText(message) ?? parseFields(message)
    }

    static func parseFields(_ message: MailMessage) -> DeliveryReport? {
        let parts = message.parts.allParts
        if let status = parts.first(where: {
            $0.contentType == "message/delivery-status" || $0.contentType == "message/global-delivery-status"
        }) {
            let groups = fieldGroups(status.body)
            var recipients: [Recipient] = []
            // per-recipient groups follow the per-message group; some MTAs put the only recipient in the first
            for group in groups {
                guard let address = value(group, "final-recipient") ?? value(group, "original-recipient") else {
                    continue
                }
                let diagnostic = value(group, "diagnostic-code").map { stripType($0) }
                var code = value(group, "status").map(statusCode) ?? ""
                // the remote server's own enhanced code is more specific than a reporting MTA's generic one
                if let specific = diagnostic.flatMap(enhancedStatusCode),
                    code.isEmpty || isGeneric(code) || specific.first == code.first
                {
                    code = specific
                }
                if code.isEmpty, let diagnostic { code = inferredStatus(diagnostic, action: value(group, "action")) }
                recipients.append(
                    Recipient(
                        address: addressValue(address), status: code.isEmpty ? nil : code,
                        action: value(group, "action")?.lowercased(), diagnostic: diagnostic))
            }
            return DeliveryReport(
                kind: .deliveryStatus, originalMessageID: originalMessageID(parts), recipients: recipients,
                disposition: nil)
        }
        if let mdn = parts.first(where: {
            $0.contentType == "message/disposition-notification"
                || $0.contentType == "message/global-disposition-notification"
        }) {
            let group = fieldGroups(mdn.body).first ?? []
            let original = value(group, "original-message-id").flatMap(MessageID.parse) ?? originalMessageID(parts)
            let recipient = value(group, "final-recipient").map { Recipient(address: addressValue($0)) }
            return DeliveryReport(
                kind: .dispositionNotification, originalMessageID: original, recipients: recipient.map { [$0] } ?? [],
                disposition: value(group, "disposition").map { stripType($0) })
        }
        return nil
    }

    /// The Message-ID of the returned original (`message/rfc822` or `text/rfc822-headers`).
    static func originalMessageID(_ parts: [MIMEPart]) -> String? {
        for part in parts
        where part.contentType == "message/rfc822" || part.contentType == "text/rfc822-headers"
            || part.contentType == "message/global" || part.contentType == "message/global-headers"
        {
            if let child = part.children.first,
                let id = child.headers.first(where: { $0.name.lowercased() == "message-id" })
            {
                return MessageID.parse(id.rawValue)
            }
            for group in fieldGroups(part.body) {
                if let id = value(group, "message-id") { return MessageID.parse(id) }
            }
        }
        return nil
    }

    /// Header-like blocks separated by blank lines, continuation lines unfolded; names lowercased.
    static func fieldGroups(_ body: [UInt8]) -> [[(String, String)]] {
        let text = String(decoding: body, as: UTF8.self)
        var groups: [[(String, String)]] = []
        var current: [(String, String)] = []
        // "\r\n" is a single Character in Swift: split on any newline character.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = String(rawLine)
            if line.trimmingBlanks().isEmpty {
                if !current.isEmpty { groups.append(current) }
                current = []
                continue
            }
            if let first = line.first, first == " " || first == "\t", !current.isEmpty {
                current[current.count - 1].1 += " " + line.trimmingBlanks()
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]).trimmingBlanks().asciiLowercased()
            let value = String(line[line.index(after: colon)...]).trimmingBlanks()
            current.append((name, value))
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    static func value(_ group: [(String, String)], _ name: String) -> String? {
        group.first { $0.0 == name }?.1
    }

    /// `rfc822; user@example.test` → `user@example.test`
    static func addressValue(_ value: String) -> String {
        var address = stripType(value)
        if address.hasPrefix("<") && address.hasSuffix(">") { address = String(address.dropFirst().dropLast()) }
        return address
    }

    static func stripType(_ value: String) -> String {
        guard let semicolon = value.firstIndex(of: ";") else { return value.trimmingBlanks() }
        return String(value[value.index(after: semicolon)...]).trimmingBlanks()
    }

    /// `5.1.1 (bad mailbox)` → `5.1.1`
    static func statusCode(_ value: String) -> String {
        String(value.prefix { $0.isNumber || $0 == "." })
    }
}

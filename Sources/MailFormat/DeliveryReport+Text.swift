internal import Foundation

/// Bounces without RFC 3464 fields (qmail, Exim, Postfix and Sendmail texts, Exchange and Gmail notices, …):
/// many MTAs still send only prose, and a ticket must learn which recipient failed either way.
extension DeliveryReport {
    private static let daemonLocalParts: Set<String> = [
        "mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon", "mailerdaemon", "mdaemon", "maildaemon",
        "mail.daemon", "bounce", "bounces", "nobody", "root", "system", "administrator", "mail",
    ]

    private static let bounceSubjectPhrases = NeedleSet(bounceSubjects)
    /// Display names of mailer daemons (lowercase), searched as bytes: this runs on every incoming mail.
    private static let daemonNames = NeedleSet([
        "mail delivery", "mailer-daemon", "postmaster", "mail administrator", "mailer daemon",
    ])

    private static let bounceSubjects: [String] = [
        "undeliver", "delivery status notification", "mail delivery failed", "failure notice", "returned mail",
        "delivery failure", "delivery failed", "non-delivery", "nondeliver", "non delivery", "could not be delivered",
        "mail system error", "delivery notification", "delivery problem", "could not send message",
        "not delivered", "delivery has failed", "returned to sender", "mail failure", "delivery report",
        "unzustellbar", "nicht zustellbar", "non remis", "warning: message",
        "mail could not", "message delayed", "delayed mail", "delivery delayed", "failed delivery",
        "unable to deliver", "problem delivering",
        "undelivered", "delivery error", "returned message", "sending failed",
    ]

    private static let bounceWording: [String] = [
        "could not be delivered", "delivery to the following recipient", "permanent error", "was not delivered",
        "undeliverable", "delivery has failed", "unable to deliver", "not be delivered", "delivery failed",
        "failed to deliver", "returned to sender", "mailbox is full", "user unknown",
    ]

    private static let copyMarkers: [String] = [
        "below this line is a copy", "this is a copy of the message", "original message", "message headers follow",
        "unsent message follows", "original message follows", "the original message", "copy of the message",
        "headers of the original", "message follows", "returned message", "--- original", "original mail",
        "text of the message", "header of the original", "undelivered message", "----- message text",
    ]

    /// Phrases after which an address on the same line is a failed recipient.
    private static let recipientPhrases: [String] = [
        "delivering your mail to", "delivery to", "delivered to", "deliver to", "deliver your message to",
        "message to", "recipient:", "recipient address", "recipients:", "failed recipient", "addressed to",
        "rcpt to:", "for <", "mail to", "your mail to", "sent to", "recipient <", "user <", "address <",
        "mailbox <", "to the following", "original-recipient", "final-recipient", "failed", "attempts:",
    ]

    /// Whether headers say this is a message from a mailer daemon about a failed delivery.
    static func looksLikeBounce(_ message: MailMessage) -> Bool {
        // Byte search: this runs on every incoming mail, and Foundation's `contains` costs a CFString per needle.
        let subject = Array(message.subject.lowercased().utf8)
        return bounceSubjectPhrases.occurs(in: subject) || isFromMailerDaemon(message)
    }

    /// The sender is a mailer daemon / postmaster, or the message returns an original with failure wording.
    static func isFromMailerDaemon(_ message: MailMessage) -> Bool {
        for address in message.from {
            let local = address.address.split(separator: "@").first.map { $0.lowercased() } ?? ""
            if daemonLocalParts.contains(local) || local.hasPrefix("mailer-daemon") || local.hasPrefix("postmaster") {
                return true
            }
            if let name = address.name {
                let bytes = Array(name.asciiLowercased().utf8)
                if daemonNames.occurs(in: bytes) { return true }
            }
        }
        if message.from.isEmpty, let raw = message.rawHeader("from"), raw.lowercased().contains("mailer-daemon") {
            return true
        }
        // a returned original plus failure wording
        let returnsOriginal = message.parts.allParts.contains {
            $0.contentType == "message/rfc822" || $0.contentType == "text/rfc822-headers"
        }
        if returnsOriginal {
            let head = String(message.text.prefix(3_000)).lowercased()
            return bounceWording.contains { head.contains($0) }
        }
        return false
    }

    /// Reads a prose bounce; nil unless the message looks like one and names at least one recipient.
    static func parseText(_ message: MailMessage) -> DeliveryReport? {
        if let report = parseSESNotification(message) { return report }
        guard looksLikeBounce(message) else { return nil }
        var text = message.text
        if text.trimmingBlanks().isEmpty {
            text =
                message.parts.allParts.lazy.filter { $0.contentType == "text/plain" }.compactMap(\.decodedText)
                .first ?? ""
        }
        let allLines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(2_000)
        // the report is what comes before the returned copy of the original
        var cut = allLines.count
        for (i, line) in allLines.enumerated() where i > 0 {
            let l = line.lowercased()
            if l.utf8.count < 120, copyMarkers.contains(where: { l.contains($0) }),
                l.hasPrefix("-") || l.hasPrefix(" ") || l.hasPrefix("*") || l.hasPrefix("=") || l.hasSuffix(".")
                    || l.hasSuffix(":") || l.hasSuffix("-")
            {
                cut = i
                break
            }
            if l.hasPrefix("received: ") || l.hasPrefix("return-path:") || l.hasPrefix("dkim-signature:") {
                cut = i
                break
            }
        }
        let report = Array(allLines[..<cut])
        let copy = allLines[cut...]
        // a subject alone ("… rejected") is weak: without a daemon sender, want a returned copy or SMTP codes too
        if !isFromMailerDaemon(message), cut == allLines.count {
            let head = report.prefix(200).joined(separator: "\n")
            guard enhancedStatusCode(head) != nil || smtpReplyCode(head) != nil else { return nil }
        }

        var own: Set<String> = []
        for a in message.to + message.from + message.cc { own.insert(a.address.lowercased()) }

        // recipients: addresses at the start of a line, or after a phrase that names the recipient
        var found: [(address: String, line: Int)] = []
        var seen: Set<String> = []
        var ownFound: [(address: String, line: Int)] = []
        func consider(_ address: String, _ line: Int) {
            let lower = address.lowercased()
            let local = lower.split(separator: "@").first.map(String.init) ?? ""
            guard !daemonLocalParts.contains(local), !local.hasPrefix("mailer-daemon"), !seen.contains(lower),
                found.count < 100
            else { return }
            seen.insert(lower)
            // the bounce's own To is normally the original sender; only a last resort as a recipient
            if own.contains(lower) {
                ownFound.append((address, line))
            } else {
                found.append((address, line))
            }
        }
        for (i, line) in report.enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "*" || $0 == "-" || $0 == ">" }
            if let address = leadingAddress(trimmed) {
                consider(address, i)
                continue
            }
            let lower = line.lowercased()
            if line.contains("@"), recipientPhrases.contains(where: { lower.contains($0) }),
                !lower.contains("mail from:"), !lower.contains("envelope-from"), !lower.contains("from:<")
            {
                for address in addresses(in: line) { consider(address, i) }
            }
        }
        if found.isEmpty { found = ownFound }
        if found.isEmpty {
            // nothing named in the prose: the returned copy's To header
            for line in copy.prefix(200) where line.lowercased().hasPrefix("to:") {
                for address in addresses(in: line.dropFirst(3)) { consider(address, report.count) }
                break
            }
        }
        guard !found.isEmpty else { return nil }

        let whole = report.joined(separator: "\n")
        let lowerWhole = whole.lowercased()
        let temporary =
            [
                "temporary", "delayed", "will retry", "still trying", "not yet been delivered", "will keep trying",
                "deferred", "retry", "has not been delivered yet",
            ].contains { lowerWhole.contains($0) }
            && !["permanent", "given up", "giving up", "failed permanently"].contains { lowerWhole.contains($0) }
        let globalCode = enhancedStatusCode(whole)
        var recipients: [Recipient] = []
        for (k, item) in found.enumerated() {
            let end = k + 1 < found.count ? max(found[k + 1].line, item.line + 1) : report.count
            let section = report[min(item.line, report.count)..<min(end, report.count)].joined(separator: "\n")
            var code = enhancedStatusCode(section) ?? globalCode
            let smtp = smtpReplyCode(section) ?? smtpReplyCode(whole)
            if code == nil || isGeneric(code!) {
                let inferred = inferredStatus(section.isEmpty ? whole : section + "\n" + whole, action: nil)
                if code == nil || !inferred.hasSuffix(".0.0") { code = inferred }
            }
            var status = code ?? "5.0.0"
            if let smtp, let first = smtp.first, status.hasSuffix(".0.0") { status = "\(first).0.0" }
            if temporary && code == nil && smtp == nil { status = "4.0.0" }
            if let first = status.first, first == "4" || first == "5", code == nil, smtp == nil, temporary {
                status = "4" + status.dropFirst()
            }
            let diagnostic = section.split(separator: "\n").map { String($0).trimmingBlanks() }.filter { !$0.isEmpty }
                .dropFirst().prefix(3).joined(separator: " ")
            recipients.append(
                Recipient(
                    address: item.address, status: status, action: status.hasPrefix("4") ? "delayed" : "failed",
                    diagnostic: diagnostic.isEmpty ? nil : String(diagnostic.prefix(500))))
        }
        var result = DeliveryReport(
            kind: .deliveryStatus, originalMessageID: originalMessageID(message.parts.allParts), recipients: recipients,
            disposition: nil)
        if result.originalMessageID == nil {
            for line in copy.prefix(300) where line.lowercased().hasPrefix("message-id:") {
                result.originalMessageID = MessageID.parse(String(line.dropFirst(11)))
                break
            }
        }
        result.isFromText = true
        return result
    }

    /// Amazon SES notifications forwarded by mail (SNS): JSON with `bouncedRecipients` or `delivery.recipients`.
    static func parseSESNotification(_ message: MailMessage) -> DeliveryReport? {
        // Runs on every incoming mail: decide on the first non-blank byte before copying or searching the body.
        guard message.text.utf8.first(where: { !$0.isBlankOrEOL }) == UInt8(ascii: "{") else { return nil }
        let body = message.text.trimmingBlanks()
        guard body.hasPrefix("{"), body.utf8.count < 1_000_000, body.contains("\"notificationType\""),
            let end = body.lastIndex(of: "}")
        else { return nil }
        // the JSON arrives wrapped ("\n " inserted at a fixed width) and followed by an unsubscribe footer
        let json = body[...end].replacingOccurrences(of: "\n ", with: "").replacingOccurrences(of: "\n", with: "")
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let type = object["notificationType"] as? String
        else { return nil }
        var recipients: [Recipient] = []
        if type == "Bounce", let bounce = object["bounce"] as? [String: Any],
            let list = bounce["bouncedRecipients"] as? [[String: Any]]
        {
            for entry in list.prefix(1_000) {
                guard let address = entry["emailAddress"] as? String else { continue }
                let diagnostic = (entry["diagnosticCode"] as? String).map { stripType($0) }
                var status = (entry["status"] as? String).map(statusCode)
                if status == nil || status!.isEmpty {
                    status =
                        diagnostic.flatMap(enhancedStatusCode)
                        ?? ((bounce["bounceType"] as? String) == "Transient" ? "4.0.0" : "5.0.0")
                }
                recipients.append(
                    Recipient(
                        address: address, status: status, action: entry["action"] as? String ?? "failed",
                        diagnostic: diagnostic))
            }
        } else if type == "Delivery", let delivery = object["delivery"] as? [String: Any],
            let list = delivery["recipients"] as? [String]
        {
            for address in list.prefix(1_000) {
                recipients.append(Recipient(address: address, status: "2.6.0", action: "delivered"))
            }
        }
        guard !recipients.isEmpty else { return nil }
        var mailID: String?
        if let mail = object["mail"] as? [String: Any], let headers = mail["headers"] as? [[String: Any]] {
            for header in headers where (header["name"] as? String)?.lowercased() == "message-id" {
                mailID = (header["value"] as? String).flatMap { MessageID.parse($0) }
            }
        }
        var report = DeliveryReport(
            kind: .deliveryStatus, originalMessageID: mailID, recipients: recipients, disposition: nil)
        report.isFromText = true
        return report
    }

    /// An address at the very start of `s` (bare, in `<>` or quotes), followed by nothing, `:`, `...` or a blank.
    static func leadingAddress(_ s: Substring) -> String? {
        var rest = s
        var closing: Character?
        if let first = rest.first, first == "<" || first == "'" || first == "\"" {
            closing = first == "<" ? ">" : first
            rest = rest.dropFirst()
        }
        let token = rest.prefix { isAddressCharacter($0) }
        guard isPlausibleAddress(token) else { return nil }
        var after = rest.dropFirst(token.count)
        if let closing {
            guard after.first == closing else { return nil }
            after = after.dropFirst()
        }
        // the address must stand alone as the line's first token ("x@y", "<x@y>:", "x@y... User unknown")
        guard let next = after.first else { return String(token) }
        return next == " " || next == "\t" || next == ":" || next == "." || next == "(" || next == "," || next == ";"
            ? String(token) : nil
    }

    private static func isAddressCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "._%+-=/'!#$&*?^{}|~@".contains(c)) && c != "'"
    }

    private static func isPlausibleAddress(_ token: Substring) -> Bool {
        guard let at = token.firstIndex(of: "@"), at != token.startIndex else { return false }
        let domain = token[token.index(after: at)...]
        guard domain.contains("."), !domain.contains("@"), domain.last != ".", domain.first != "." else { return false }
        return true
    }

    /// Every address-looking token on a line.
    static func addresses(in line: Substring) -> [String] {
        var out: [String] = []
        var token = ""
        for c in line {
            if isAddressCharacter(c) {
                token.append(c)
            } else {
                let t = token.trimmingDots()
                if isPlausibleAddress(t) { out.append(String(t)) }
                token = ""
            }
        }
        let t = token.trimmingDots()
        if isPlausibleAddress(t) { out.append(String(t)) }
        return out
    }

    /// The first RFC 3463 code (`5.1.1`) in `text`, not part of an IP address or version number.
    static func enhancedStatusCode(_ text: String) -> String? {
        let u = Array(text.utf8)
        var i = 0
        while i + 4 < u.count {
            let c = u[i]
            if c == 50 || c == 52 || c == 53, u[i + 1] == 46,
                i == 0 || !(u[i - 1].isDigit || u[i - 1] == 46)
            {
                var j = i + 2
                var d1 = 0
                while j < u.count, u[j].isDigit, d1 < 3 {
                    j += 1
                    d1 += 1
                }
                if d1 > 0, j < u.count, u[j] == 46 {
                    j += 1
                    var d2 = 0
                    while j < u.count, u[j].isDigit, d2 < 3 {
                        j += 1
                        d2 += 1
                    }
                    let endsCleanly =
                        j >= u.count || !(u[j].isDigit || (u[j] == 46 && j + 1 < u.count && u[j + 1].isDigit))
                    if d2 > 0, endsCleanly {
                        return String(decoding: u[i..<j], as: UTF8.self)
                    }
                }
            }
            i += 1
        }
        return nil
    }

    /// A three-digit SMTP reply code (`550`, `452`) at a line start or after "said:" / "error:" / "reply:".
    static func smtpReplyCode(_ text: String) -> String? {
        for line in text.split(separator: "\n") {
            var candidates: [Substring] = [line.drop { $0 == " " || $0 == "\t" || $0 == "<" || $0 == ">" }]
            for marker in ["said: ", "said:", "error: ", "reply: ", "returned: ", "response: ", "]: "] {
                if let r = line.range(of: marker) { candidates.append(line[r.upperBound...]) }
            }
            for c in candidates {
                let digits = c.prefix(3)
                guard digits.count == 3, digits.allSatisfy(\.isNumber), let first = digits.first,
                    first == "4" || first == "5"
                else { continue }
                let next = c.dropFirst(3).first
                if next == nil || next == " " || next == "-" { return String(digits) }
            }
        }
        return nil
    }

    /// Whether a code says nothing beyond its class (`5.0.0`, `4.0.0`).
    static func isGeneric(_ code: String) -> Bool { code.hasSuffix(".0.0") || code.count < 5 }

    /// A status code from the wording of a diagnostic, for reports that carry none.
    static func inferredStatus(_ text: String, action: String?) -> String {
        let l = text.lowercased()
        let temporary = action?.lowercased() == "delayed"
        let cls = temporary ? "4" : "5"
        let table: [(String, [String])] = [
            (
                ".1.1",
                [
                    "user unknown", "unknown user", "no such user", "does not exist", "user not found",
                    "unknown recipient",
                    "recipient not found", "invalid recipient", "no mailbox", "mailbox unavailable", "not recognized",
                    "no such mailbox", "address rejected", "unrouteable address", "unknown address",
                    "recipient unknown",
                    "invalid mailbox", "mailbox not found", "account does not exist", "bad recipient", "not a valid",
                    "no longer", "unknown local", "user doesn't exist", "address does not exist", "not listed",
                ]
            ),
            (".2.2", ["mailbox full", "quota", "over quota", "mailbox is full", "insufficient", "exceeded storage"]),
            (".1.2", ["host not found", "domain not found", "no mx", "unknown host", "host unknown", "name service"]),
            (".3.4", ["too large", "too big", "size limit", "message size"]),
            (".4.7", ["expired", "too long", "retry timeout", "could not be delivered within", "giving up"]),
            (".7.1", ["spam", "blocked", "denied", "blacklist", "policy", "not permitted", "refused", "rejected"]),
        ]
        for (suffix, words) in table where words.contains(where: { l.contains($0) }) {
            return cls + suffix
        }
        return cls + ".0.0"
    }
}

extension String {
    fileprivate func trimmingDots() -> Substring {
        var t = self[...]
        while t.first == "." { t = t.dropFirst() }
        while t.last == "." { t = t.dropLast() }
        return t
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= 48 && self <= 57 }
}

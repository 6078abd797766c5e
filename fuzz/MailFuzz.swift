// libFuzzer target for MailFormat; compiled into the same module as Sources/MailFormat/*.swift by scripts/fuzz:
//   swiftc -sanitize=fuzzer,address -parse-as-library -module-name MailFormat Sources/MailFormat/*.swift fuzz/MailFuzz.swift
// Every input is parsed; the reply text, auto-reply signals and delivery report are derived; then the message is
// composed again and re-parsed, and what the composer promises (attachment bytes, subject) must survive.
internal import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func mailFuzzTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let message = MailParser.parse(bytes)
    _ = message.replyText
    _ = message.autoSubmitted
    _ = DeliveryReport.parse(message)
    for part in message.parts.allParts { _ = part.decodedText }
    for attachment in message.attachments.prefix(4) { _ = attachment.sha256 }

    let outgoing = OutgoingMail(
        from: message.from.first ?? MailAddress(address: "fuzz@example.test"), to: message.to, cc: message.cc,
        subject: message.subject, messageID: MessageID.generate(localPart: "fuzz", domain: "example.test"),
        inReplyTo: message.messageID, references: message.references, date: Date(timeIntervalSince1970: 0),
        text: message.text, html: message.html,
        attachments: message.attachments.prefix(4).map {
            OutgoingAttachment(filename: $0.filename ?? "file", contentType: $0.contentType, data: $0.data)
        })
    let composed = MailComposer.compose(outgoing)
    let back = MailParser.parse(composed)
    // attached messages travel as 7bit/8bit text (RFC 2046 forbids base64 there), so only their line ends may
    // change (CRLF, and a final line break added before the boundary)
    func comparable(_ type: String, _ data: [UInt8]) -> [UInt8] {
        guard type.hasPrefix("message/") else { return data }
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            if data[i] == 13 {
                out.append(10)
                if i + 1 < data.count && data[i + 1] == 10 { i += 1 }
            } else {
                out.append(data[i])
            }
            i += 1
        }
        while out.last == 10 { out.removeLast() }
        return out
    }
    // (the composer may also send an unsafe message/rfc822 as application/octet-stream: compare by the sent type)
    let sent = outgoing.attachments.map { comparable($0.contentType, $0.data) }
    let received = zip(outgoing.attachments, back.attachments).map { comparable($0.contentType, $1.data) }
    if sent != received || outgoing.attachments.count != back.attachments.count {
        fatalError("round trip changed attachments: \(sent.map(\.count)) -> \(received.map(\.count))")
    }
    return 0
}

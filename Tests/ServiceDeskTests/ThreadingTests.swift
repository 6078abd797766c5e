import MailFormat
import Testing

@testable import ServiceDesk

@Suite("Threading")
struct ThreadingTests {
    @Test(
        "ticket tags are found in subjects, also when mangled",
        arguments: [
            ("[INC-000042] Printer", "INC-000042"),
            ("AW: [INC-000042] Drucker", "INC-000042"),
            ("Re: [ inc 42 ] Drucker", "INC-000042"),
            ("Fwd: (REQ-000007) laptop", "REQ-000007"),
            ("RE : RE: [CHG-1] window", "CHG-000001"),
            ("[PRB#12] root cause", "PRB-000012"),
        ])
    func tags(subject: String, expected: String) {
        #expect(Threading.subjectTags(subject).map(\.description) == [expected])
    }

    @Test(
        "ticket ids print with at least six digits and parse back",
        arguments: [
            (TicketKind.incident, 1, "INC-000001"), (.serviceRequest, 42, "REQ-000042"),
            (.problem, 999_999, "PRB-999999"),
            (.change, 1_234_567, "CHG-1234567"), (.incident, Int(Int32.max), "INC-2147483647"),
        ])
    func ticketIDText(kind: TicketKind, number: Int, text: String) {
        let id = TicketID(kind: kind, number: number)
        #expect(id.description == text)
        #expect(TicketID(text) == id)
    }

    @Test("no tag where there is none", arguments: ["Printer broken", "[INC-] x", "[ABC-000001] x", "[INC-000000] x"])
    func noTags(subject: String) {
        #expect(Threading.subjectTags(subject).isEmpty)
    }

    @Test(
        "reply prefixes and our tag are stripped from the base subject",
        arguments: [
            ("Re: AW: WG: Drucker", "Drucker"), ("[INC-000001] Re: VPN", "VPN"), ("SV: VS: Fwd: Hello", "Hello"),
            ("RE : Printer: jammed", "Printer: jammed"), ("Re[2]: x", "x"), ("Printer broken", "Printer broken"),
            (" Printer broken\t", "Printer broken"), ("Drucker\u{A0}", "Drucker"), ("\u{A0}Drucker", "Drucker"),
            ("Printer (2nd floor)", "Printer (2nd floor)"),
        ])
    func baseSubject(subject: String, expected: String) {
        #expect(Threading.baseSubject(subject) == expected)
    }

    let inc = TicketID(kind: .incident, number: 42)

    @Test("references win over everything")
    func references() {
        let evidence = ThreadingEvidence(referencedTicket: inc, subjectTag: TicketID(kind: .incident, number: 7))
        #expect(
            Threading.decide(evidence, sender: "x@y.test", senderIsAgent: false)
                == .existing(inc, reason: "In-Reply-To/References name a mail of INC-000042"))
    }

    @Test("a subject tag is accepted from participants and agents only")
    func subjectTagTrust() {
        let evidence = ThreadingEvidence(subjectTag: inc, taggedTicketParticipants: ["alice@customer.test"])
        guard case .existing = Threading.decide(evidence, sender: "Alice@Customer.test", senderIsAgent: false) else {
            Issue.record("participant's tag not accepted")
            return
        }
        guard case .existing = Threading.decide(evidence, sender: "anna@example.test", senderIsAgent: true) else {
            Issue.record("agent's tag not accepted")
            return
        }
        guard case .new = Threading.decide(evidence, sender: "mallory@evil.test", senderIsAgent: false) else {
            Issue.record("stranger's tag accepted")
            return
        }
    }

    @Test("a tag of a ticket that does not exist opens a new ticket")
    func unknownTag() {
        let evidence = ThreadingEvidence(subjectTag: inc, taggedTicketParticipants: nil)
        guard case .new = Threading.decide(evidence, sender: "a@b.test", senderIsAgent: true) else {
            Issue.record("unknown ticket accepted")
            return
        }
    }

    @Test("our Message-IDs carry the ticket and verify only with the right secret")
    func signedMessageIDs() {
        let id = OutboundMessageID.make(
            ticket: inc, purpose: "acknowledgement", domain: "example.test", secret: "s3cret-key")
        #expect(OutboundMessageID.isOurs(id, domain: "example.test"))
        #expect(OutboundMessageID.ticket(in: id, domain: "example.test", secret: "s3cret-key") == inc)
        #expect(OutboundMessageID.ticket(in: id, domain: "example.test", secret: "other-key") == nil)
        let forged = id.replacingOccurrences(of: "INC-000042", with: "INC-000043")
        #expect(OutboundMessageID.ticket(in: forged, domain: "example.test", secret: "s3cret-key") == nil)
        #expect(
            OutboundMessageID.make(ticket: inc, purpose: "x", domain: "example.test", secret: "k")
                != OutboundMessageID.make(ticket: inc, purpose: "x", domain: "example.test", secret: "k"))
    }

    @Test("HMAC-SHA256 matches RFC 4231 (short, long and hashed keys; messages past one block), keyed by text too")
    func hmacVector() {
        let mac = HMAC.sha256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(HMAC.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // the cached key per secret gives the same, also on repeated and empty messages
        for _ in 0..<2 {
            #expect(HMAC.sha256(secret: "Jefe", message: Array("what do ya want for nothing?".utf8)) == mac)
        }
        #expect(
            HMAC.hex(HMAC.sha256(secret: "Jefe", message: []))
                == "923598ca6d64af2a5dba79dcd021a8a0fe5c5f557519adaaf0ad532d4506dd30")
        let case1 = HMAC.sha256(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
        #expect(HMAC.hex(case1) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        let longKey = [UInt8](repeating: 0xaa, count: 131)
        let case6 = HMAC.sha256(
            key: longKey, message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(HMAC.hex(case6) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        let case7 = HMAC.sha256(
            key: longKey,
            message: Array(
                ("This is a test using a larger than block-size key and a larger than block-size data. The key needs "
                    + "to be hashed before being used by the HMAC algorithm.").utf8))
        #expect(HMAC.hex(case7) == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    }

    @Test("ticket ids parse and print with six digits")
    func ticketIDs() {
        #expect(TicketID("INC-000001")?.description == "INC-000001")
        #expect(TicketID("req-12")?.description == "REQ-000012")
        #expect(TicketID("INC-1234567")?.description == "INC-1234567")
        #expect(TicketID("INC-") == nil)
        #expect(TicketID("XYZ-1") == nil)
        #expect(TicketID("INC-0") == nil)
    }
}

@Suite("SHA-256 vectors used by the HMAC")
struct SHA256VectorTests {
    @Test(
        "FIPS 180-4 examples, one and two blocks",
        arguments: [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ])
    func vectors(input: String, expected: String) {
        #expect(HMAC.hex(SHA256.digest(Array(input.utf8))) == expected)
    }
}

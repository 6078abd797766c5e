import Foundation
import MailFormat
import Testing

@Suite struct ReplyTextTests {
    @Test(arguments: [
        (
            "Thanks, fixed!\n\nOn Mon, 4 Nov 2024 at 10:00, Bob <bob@x.test> wrote:\n> Printer broken\n> help",
            "Thanks, fixed!"
        ),
        ("Danke!\n\nAm 04.11.2024 um 10:00 schrieb Bob Müller <bob@x.test>:\n> Drucker kaputt", "Danke!"),
        ("Merci.\n\nLe lun. 4 nov. 2024 à 10:00, Bob <bob@x.test> a écrit :\n> Imprimante", "Merci."),
        ("Gracias.\n\nEl lun, 4 nov 2024 a las 10:00, Bob (<bob@x.test>) escribió:\n> hola", "Gracias."),
        ("Grazie.\n\nIl giorno lun 4 nov 2024 alle ore 10:00 Bob <bob@x.test> ha scritto:\n> ciao", "Grazie."),
        ("Bedankt.\n\nOp ma 4 nov. 2024 om 10:00 schreef Bob <bob@x.test>:\n> hoi", "Bedankt."),
        (
            "Two-line attribution\n\nOn Mon, Nov 4, 2024 at 10:00 AM Very Long Name <\nlong@example.com> wrote:\n> x",
            "Two-line attribution"
        ),
        (
            "Reply text\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\nTo: desk\nSubject: x\n\nold",
            "Reply text"
        ),
        (
            "Antwort\n\n________________________________\nVon: Bob <bob@x.test>\nGesendet: Montag\nAn: desk\nBetreff: x\n\nalt",
            "Antwort"
        ),
        ("Réponse\n\nDe : Bob\nEnvoyé : lundi\nÀ : desk\nObjet : x\n\nvieux", "Réponse"),
        ("Hello\n\n-- \nBob\nACME Corp", "Hello"),
        ("Quick answer\n\nSent from my iPhone", "Quick answer"),
        ("Kurz\n\nVon meinem iPhone gesendet\n\n> alt", "Kurz"),
        ("Inline:\n> question one?\nanswer one\n> question two?\nanswer two", "Inline:\nanswer one\nanswer two"),
        ("On Mon, Bob wrote:\n> quoted first\n\nbottom-posted reply", "bottom-posted reply"),
        ("No quotes at all.\nJust text.", "No quotes at all.\nJust text."),
        ("> only quoted\n> text", "> only quoted\n> text"),
        ("Looks at this line -- not a signature\nok", "Looks at this line -- not a signature\nok"),
    ])
    func strips(_ input: String, _ expected: String) {
        #expect(ReplyText.strip(input) == expected)
    }

    @Test func messageReplyText() {
        let m = parse("Subject: Re: x\r\n\r\nThanks!\r\n\r\nOn Mon, Bob <b@x.test> wrote:\r\n> old\r\n")
        #expect(m.text == "Thanks!\n\nOn Mon, Bob <b@x.test> wrote:\n> old\n")
        #expect(m.replyText == "Thanks!")
    }

    static func corpusFile(_ name: String) throws -> String {
        let url = CorpusTests.corpusDirectory.appendingPathComponent("github-email_reply_parser/test/emails/" + name)
        return String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    @Test(arguments: [
        ("email_1_2.txt", ["Hi,", "You can list the keys", "would do it."], ["Hi folks", "Abhishek Kona wrote"]),
        ("email_iPhone.txt", ["Here is another email"], ["Sent from my iPhone"]),
        ("greedy_on.txt", ["telnet 127.0.0.1 52698", "the tunnel is not working."], ["odd issue"]),
        ("email_one_is_not_on.txt", ["Locally (on development), when I run..."], ["good news"]),
        ("email_1_1.txt", ["Hi folks", "-Abhishek Kona"], []),
    ])
    func githubFixtures(_ file: String, _ contains: [String], _ excludes: [String]) throws {
        let reply = ReplyText.strip(try Self.corpusFile(file))
        for c in contains { #expect(reply.contains(c), "\(file) should keep \(c)") }
        for e in excludes { #expect(!reply.contains(e), "\(file) should drop \(e)") }
    }

    @Test func pathologicalIsFast() throws {
        let text = try Self.corpusFile("pathological.txt")
        let start = ContinuousClock.now
        _ = ReplyText.strip(text)
        #expect(ContinuousClock.now - start < .seconds(1))
    }
}

@Suite struct AutoReplyTests {
    @Test(arguments: [
        ("Auto-Submitted: auto-replied", true),
        ("Auto-Submitted: no", false),
        ("Precedence: bulk", true),
        ("Precedence: junk", true),
        ("Precedence: list", true),
        ("X-Autoreply: yes", true),
        ("X-Auto-Response-Suppress: All", true),
        ("List-Id: <users.lists.example.com>", true),
        ("X-Mailer: Outlook", false),
        // field names in any case
        ("AUTO-SUBMITTED: auto-generated", true), ("list-unsubscribe: <mailto:leave@lists.test>", true),
        ("x-ms-exchange-inbox-rules-loop: it@example.test", true), ("PRECEDENCE: Bulk", true),
        ("Received: from auto-submitted.test", false),
    ])
    func headers(_ header: String, _ expected: Bool) {
        let m = parse("From: a@b.test\r\nSubject: hello\r\n\(header)\r\n\r\nbody")
        #expect(m.autoSubmitted == expected)
    }

    @Test(arguments: [
        ("Out of Office: Printer", true), ("Automatic reply: Printer", true), ("Abwesenheitsnotiz: Drucker", true),
        ("Automatische Antwort: Drucker", true), ("Réponse automatique : Imprimante", true),
        ("Absence du bureau", true), ("Respuesta automática: impresora", true), ("Fuera de la oficina", true),
        ("Risposta automatica: stampante", true), ("Fuori ufficio", true), ("Automatisch antwoord: printer", true),
        ("Afwezig: printer", true), ("Printer out of paper", false), ("Re: Office move", false), ("", false),
        // a phrase later in the subject counts after ( or [, or before : (or " :")
        ("AW: [Auto Reply] Drucker", true), ("Fwd: (abwesend) bis Montag", true), ("Re: Out of Office: x", true),
        ("WG: vacation reply : back soon", true), ("Question about out of office hours", false),
        ("Re: autoreply", false), ("Re: autoreplyx:", false),
    ])
    func subjects(_ subject: String, _ expected: Bool) {
        #expect(AutoReply.isOutOfOfficeSubject(subject) == expected)
        #expect(parse("Subject: \(subject)\r\n\r\nx").autoSubmitted == expected)
    }

    @Test func mailerDaemon() {
        #expect(parse("From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered\r\n\r\nx").autoSubmitted)
    }
}

import Foundation
import TestSupport
import Testing

@testable import MailTransport

@Suite("IMAP against Dovecot")
struct IMAPSessionIntegrationTests {
    let stack: MailStack

    init() throws {
        stack = try MailStack()
    }

    /// A session logged in to a new user's mailbox that holds `bodies`, in order (UIDs 1, 2, ...).
    func session(delivering bodies: [String]) async throws -> IMAPSession {
        let user = stack.newUser()
        for body in bodies { try await stack.deliver(body, to: user) }
        let session = IMAPSession(endpoint: stack.endpoint(user: user))
        try await session.connect()
        return session
    }

    @Test("CONNECT_ONLY performs the login; CAPABILITY and SELECT work afterwards")
    func loginAndSelect() async throws {
        let user = stack.newUser()
        try await stack.deliver("Subject: one\r\n\r\nbody\r\n", to: user)
        let session = IMAPSession(endpoint: stack.endpoint(user: user))
        try await session.connect()
        let capabilities = await session.capabilities
        #expect(capabilities.contains("IMAP4REV1"))
        let status = try await session.select("INBOX")
        #expect(status.exists == 1)
        #expect(status.uidValidity > 0)
        #expect(status.uidNext == 2)
        await session.logout()
    }

    @Test("hostile bodies cannot desync the bulk fetch, and BODY.PEEK leaves mail unseen")
    func hostileBodies() async throws {
        let user = stack.newUser()
        let hostile = [
            "Subject: tagged\r\n\r\nA004 OK LOGOUT completed\r\ntg5 OK fake\r\n* BYE fake\r\n",
            "Subject: long\r\n\r\n" + String(repeating: "y", count: 100_000) + "\r\n",
            "Subject: no final newline\r\n\r\nlast line without newline",
            "Subject: literal-looking\r\n\r\n* 9 FETCH (BODY[] {999}\r\n",
        ]
        for message in hostile { try await stack.deliver(message, to: user) }
        let session = IMAPSession(endpoint: stack.endpoint(user: user))
        try await session.connect()
        _ = try await session.select("INBOX")
        let messages = try await session.fetchMessages("1:*")
        #expect(messages.map(\.uid) == [1, 2, 3, 4])
        for (message, expected) in zip(messages, hostile) {
            #expect(String(decoding: message.raw, as: UTF8.self) == expected)
            #expect(message.size == expected.utf8.count)
            #expect(!message.flags.contains("\\Seen"))
        }
        // The session is still in sync: another command works and sees no \Seen flags.
        let unseen = try await session.uidSearch("UNSEEN")
        #expect(unseen == [1, 2, 3, 4])
        await session.logout()
    }

    @Test(
        "pipelined fetches: each batch gets exactly its own mails, and any other command first settles the one sent ahead"
    )
    func pipelinedFetches() async throws {
        let bodies = (1...12).map { "Subject: m\($0)\r\n\r\n" + String(repeating: "line \($0)\r\n", count: 400 * $0) }
        let session = try await session(delivering: bodies)
        _ = try await session.select("INBOX")
        let batches = ["1:3", "4,5", "6:9", "10:12"]
        for (index, set) in batches.enumerated() {
            let next = index + 1 < batches.count ? batches[index + 1] : nil
            let messages = try await session.fetchMessages(set, sendingAhead: next)
            let expected = UIDRanges(set)
            #expect(messages.count == (1...12).filter { expected.contains(UInt32($0)) }.count, "\(set)")
            for message in messages {
                #expect(expected.contains(message.uid))
                #expect(String(decoding: message.raw, as: UTF8.self) == bodies[Int(message.uid) - 1])
            }
        }
        // A fetch sent ahead and never asked for is read and dropped before the next command.
        _ = try await session.fetchMessages("1", sendingAhead: "2:12")
        #expect(try await session.uidSearch("ALL") == Array(1...12))
        #expect(try await session.fetchMessages("2:12").map(\.uid) == Array(2...12))
        await session.logout()
    }

    @Test("a deep pipeline: several fetches under way at once, each read in turn; skipping one settles the rest")
    func deepPipeline() async throws {
        let bodies = (1...12).map { "Subject: d\($0)\r\n\r\n" + String(repeating: "row \($0)\r\n", count: 300 * $0) }
        let session = try await session(delivering: bodies)
        _ = try await session.select("INBOX")
        let batches = ["1", "2:3", "4:6", "7,8", "9:12"]
        var seen: [UInt32] = []
        for (index, set) in batches.enumerated() {
            // every following batch is asked for at once, again each time (already under way: not sent twice)
            let messages = try await session.fetchMessages(set, sendingAhead: Array(batches[(index + 1)...]))
            let expected = UIDRanges(set)
            #expect(messages.allSatisfy { expected.contains($0.uid) }, "\(set)")
            for message in messages {
                #expect(String(decoding: message.raw, as: UTF8.self) == bodies[Int(message.uid) - 1])
            }
            seen += messages.map(\.uid)
        }
        #expect(seen == Array(1...12))
        // Asking for a later batch than the oldest under way drops those under way and fetches afresh.
        _ = try await session.fetchMessages("1", sendingAhead: ["2:4", "5:8", "9:12"])
        #expect(try await session.fetchMessages("5:8", sendingAhead: ["9:12"]).map(\.uid) == [5, 6, 7, 8])
        #expect(try await session.fetchMessages("9:12").map(\.uid) == [9, 10, 11, 12])
        #expect(try await session.uidSearch("ALL") == Array(1...12))
        await session.logout()
    }

    @Test("selection with an opening fetch: sizes of all, and the first mails that came whole under the cut")
    func openingFetch() async throws {
        let bodies = [30, 60, 2_000, 30].map { "Subject: s\($0)\r\n\r\n" + String(repeating: "y", count: $0) + "\r\n" }
        let session = try await session(delivering: bodies)
        let selected = try await session.select("INBOX", sizesFrom: 2, opening: (count: 10, bytes: 1_000))
        #expect(selected.status.exists == 4)
        #expect(selected.sizes.map(\.uid) == [2, 3, 4])
        #expect(selected.sizes.map(\.size) == bodies.dropFirst().map(\.utf8.count))
        // UID 3 was cut at 1,000 bytes: not whole, so not returned; the others are exactly their bytes
        #expect(selected.opening.map(\.uid) == [2, 4])
        for message in selected.opening {
            #expect(String(decoding: message.raw, as: UTF8.self) == bodies[Int(message.uid) - 1])
        }
        // The session is in sync afterwards, and nothing was marked \Seen.
        #expect(try await session.uidSearch("UNSEEN") == [1, 2, 3, 4])
        let none = try await session.select("INBOX", sizesFrom: 5, opening: (count: 10, bytes: 1_000))
        #expect(none.sizes.isEmpty && none.opening.isEmpty)
        await session.logout()
    }

    @Test(
        "UID sets name their members",
        arguments: [
            ("1:3,7,9:10", [1, 2, 3, 7, 9, 10], [0, 4, 8, 11]),
            ("5:*", [5, 6, 4_000_000_000], [4]),
            ("12:10", [10, 11, 12], [9, 13]),
        ])
    func uidRanges(set: String, members: [UInt32], others: [UInt32]) {
        let ranges = UIDRanges(set)
        #expect(members.allSatisfy(ranges.contains))
        #expect(!others.contains(where: ranges.contains))
    }

    @Test("UID SEARCH n:* returns the highest message even below n; callers filter")
    func searchAboveLast() async throws {
        let session = try await session(delivering: ["Subject: a\r\n\r\na\r\n"])
        _ = try await session.select("INBOX")
        #expect(try await session.uidSearch("UID 5:*") == [1])
        await session.logout()
    }

    @Test(
        "passwords that need quoting (our LOGIN) or are not ASCII (libcurl's SASL login) log in; wrong ones fail",
        arguments: [("quoting", #"se"cr\et"#), ("unicode", "gehéim")])
    func specialPasswords(user: String, password: String) async throws {
        for endpoint in [
            stack.endpoint(user: user, password: password),
            IMAPEndpoint(
                url: URL(string: "imaps://localhost:\(stack.imapsPort)")!, username: user, password: password,
                caFile: stack.caFile),
        ] {
            let session = IMAPSession(endpoint: endpoint)
            try await session.connect()
            #expect(try await session.select("INBOX").uidValidity > 0)
            #expect(await session.capabilities.contains("IDLE"))
            await session.logout()
        }
        let wrong = IMAPSession(endpoint: stack.endpoint(user: user, password: password + "x"))
        await #expect {
            try await wrong.connect()
        } throws: { error in
            guard case .authenticationFailed(_, let name, _) = error as? TransportError else { return false }
            return name == user
        }
    }

    @Test("a login left unanswered by connect travels with the first command, which reports a refusal")
    func loginWithFirstCommand() async throws {
        let user = stack.newUser()
        try await stack.deliver("Subject: one\r\n\r\nbody\r\n", to: user)
        let session = IMAPSession(endpoint: stack.endpoint(user: user))
        try await session.connect(awaitingLogin: false)
        #expect(try await session.select("INBOX", sizesFrom: 1).sizes.map(\.uid) == [1])
        #expect(await session.capabilities.contains("IDLE"))
        await session.logout()

        let wrong = IMAPSession(endpoint: stack.endpoint(user: user, password: "wrong"))
        try await wrong.connect(awaitingLogin: false)  // nothing read yet
        await #expect {
            _ = try await wrong.select("INBOX")
        } throws: { error in
            guard case .authenticationFailed(_, let name, _) = error as? TransportError else { return false }
            return name == user
        }
        #expect(await !wrong.isConnected)
    }

    @Test("a wrong password is an authentication error that names the user")
    func wrongPassword() async throws {
        let session = IMAPSession(endpoint: stack.endpoint(user: stack.newUser(), password: "wrong"))
        do {
            try await session.connect()
            Issue.record("login with a wrong password succeeded")
        } catch {
            guard case .authenticationFailed(_, let user, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(user.hasPrefix("user-"))
            #expect(error.description.contains("Check the username and password"))
            #expect(!error.isTemporary)
        }
    }

    @Test("an unreachable server is a temporary error")
    func unreachable() async throws {
        let endpoint = IMAPEndpoint(url: URL(string: "imap://127.0.0.1:9")!, username: "x", password: "y")
        let session = IMAPSession(endpoint: endpoint)
        do {
            try await session.connect()
            Issue.record("connected to a closed port")
        } catch {
            guard case .unreachable = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(error.isTemporary)
        }
    }

    @Test("a server that accepts the connection but never greets is given up after the connect timeout")
    func silentServer() async throws {
        // A listening socket nobody accepts on: the kernel completes the handshake, no greeting ever comes.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let session = IMAPSession(
            endpoint: IMAPEndpoint(
                url: URL(string: "imap://127.0.0.1:\(port)")!, username: "x", password: "y",
                connectTimeout: .milliseconds(300), ioTimeout: .seconds(600)))
        do {
            try await session.connect()
            Issue.record("a silent server was taken for an IMAP server")
        } catch {
            guard case .connectionLost(_, let detail) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(detail.contains("0.3 seconds"), "\(detail)")
            #expect(error.isTemporary)
        }
    }

    @Test("IMAPS and STARTTLS verify against the harness CA; an untrusted certificate is refused")
    func tls() async throws {
        let user = stack.newUser()
        try await stack.deliver("Subject: tls\r\n\r\nx\r\n", to: user)
        let implicit = IMAPSession(
            endpoint: IMAPEndpoint(
                url: URL(string: "imaps://localhost:\(stack.imapsPort)")!, username: user, password: stack.password,
                caFile: stack.caFile))
        try await implicit.connect()
        #expect(try await implicit.select("INBOX").exists == 1)
        await implicit.logout()

        let starttls = IMAPSession(
            endpoint: IMAPEndpoint(
                url: URL(string: "imap://localhost:\(stack.imapPort)")!, username: user, password: stack.password,
                security: .starttls, caFile: stack.caFile))
        try await starttls.connect()
        #expect(try await starttls.select("INBOX").exists == 1)
        await starttls.logout()

        let untrusted = IMAPSession(
            endpoint: IMAPEndpoint(
                url: URL(string: "imaps://localhost:\(stack.imapsPort)")!, username: user, password: stack.password,
                caFile: "/etc/ssl/certs/ca-certificates.crt"))
        do {
            try await untrusted.connect()
            Issue.record("an untrusted certificate was accepted")
        } catch {
            guard case .tlsFailed = error else {
                Issue.record("unexpected error \(error)")
                return
            }
        }
    }

    @Test("folders with non-ASCII names are reached through modified UTF-7")
    func utf7Folder() async throws {
        let user = stack.newUser()
        let session = IMAPSession(endpoint: stack.endpoint(user: user))
        try await session.connect()
        try await session.command("CREATE \"\(ModifiedUTF7.encode("Entwürfe"))\"")
        try await session.append("Entwürfe", message: Array("Subject: x\r\n\r\ny\r\n".utf8))
        #expect(try await session.select("Entwürfe").exists == 1)
        await session.logout()
    }
}

@Suite("SMTP against the sink")
struct SMTPSenderIntegrationTests {
    let stack: MailStack

    init() throws {
        stack = try MailStack()
    }

    func endpoint() -> SMTPEndpoint {
        SMTPEndpoint(url: URL(string: "smtp://127.0.0.1:\(stack.smtpPort)")!, security: IMAPEndpoint.Security.none)
    }

    func message(to: String, id: String) -> [UInt8] {
        Array("From: support@example.test\r\nTo: \(to)\r\nSubject: t\r\nMessage-ID: <\(id)>\r\n\r\nhello\r\n".utf8)
    }

    @Test("several messages go over one reused connection with the exact bytes and envelope")
    func reuse() async throws {
        let sender = SMTPSender(endpoint: endpoint())
        let rcpt = "r-\(UUID().uuidString.prefix(8))@customer.test"
        for index in 0..<3 {
            let delivery = try await sender.send(
                message(to: rcpt, id: "m\(index)@x"), mailFrom: index == 0 ? "" : "support@example.test",
                recipients: [rcpt])
            #expect(delivery.accepted == [rcpt])
        }
        let sent = stack.sentMessages(to: rcpt)
        #expect(sent.count == 3)
        #expect(sent.first?.mailFrom == "")
        #expect(sent.last?.mailFrom == "support@example.test")
        #expect(sent.first?.raw == String(decoding: message(to: rcpt, id: "m0@x"), as: UTF8.self))
    }

    @Test("a 550 for one of two recipients is reported per recipient and the other still gets the mail")
    func partialRejection() async throws {
        let sender = SMTPSender(endpoint: endpoint())
        let good = "ok-\(UUID().uuidString.prefix(8))@customer.test"
        let bad = "reject-\(UUID().uuidString.prefix(8))@customer.test"
        let delivery = try await sender.send(
            message(to: good, id: "p@x"), mailFrom: "support@example.test", recipients: [bad, good])
        #expect(delivery.accepted == [good])
        #expect(delivery.refused.map(\.address) == [bad])
        #expect(delivery.refused.first?.code == 550)
        #expect(stack.sentMessages(to: good).count == 1)
    }

    @Test("a 451 is a temporary failure; the retry succeeds")
    func temporaryFailure() async throws {
        let sender = SMTPSender(endpoint: endpoint())
        let rcpt = "tempfail-\(UUID().uuidString.prefix(8))@customer.test"
        do {
            _ = try await sender.send(
                message(to: rcpt, id: "t@x"), mailFrom: "support@example.test", recipients: [rcpt])
            Issue.record("451 accepted")
        } catch {
            #expect(!error.permanent)
            #expect(error.code == 451)
        }
        let delivery = try await sender.send(
            message(to: rcpt, id: "t@x"), mailFrom: "support@example.test", recipients: [rcpt])
        #expect(delivery.accepted == [rcpt])
    }

    @Test("a server that is down is a temporary transport failure")
    func down() async throws {
        let sender = SMTPSender(
            endpoint: SMTPEndpoint(url: URL(string: "smtp://127.0.0.1:9")!, security: IMAPEndpoint.Security.none))
        do {
            _ = try await sender.send(message(to: "a@b.test", id: "d@x"), mailFrom: "", recipients: ["a@b.test"])
            Issue.record("sent to a closed port")
        } catch {
            #expect(!error.permanent)
            #expect(error.transport != nil)
        }
    }
}

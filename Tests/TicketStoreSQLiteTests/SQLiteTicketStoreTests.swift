import Foundation
import GRDB
import MailFormat
import ServiceDesk
import Testing

@testable import TicketStoreSQLite

@Suite("SQLite ticket store")
struct SQLiteTicketStoreTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tg-store-\(UUID().uuidString)/t.sqlite")
        .path
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func sampleTicket(_ id: TicketID) -> Ticket {
        Ticket(
            id: id, subject: "Printer", requester: MailAddress(name: "Alice", address: "alice@customer.test"),
            mailbox: "support", createdAt: now)
    }

    struct Boom: Error {}

    @Test("a failed transaction leaves no trace: ticket, article, outbox and checkpoint roll back together")
    func atomicity() async throws {
        let store = try SQLiteTicketStore(path: path)
        let now = self.now
        let ticket = sampleTicket(TicketID(kind: .incident, number: 1))
        await #expect(throws: Boom.self) {
            try await store.write { tx in
                let id = try tx.nextTicketID(kind: .incident)
                var t = ticket
                t.id = id
                try tx.insert(t)
                try tx.insert(
                    Article(
                        ticketID: id, direction: .inbound, author: .requester, from: t.requester, to: [], subject: "s",
                        messageID: "m1@x", text: "t", createdAt: now), rawMailID: nil)
                try tx.enqueue(
                    OutboxItem(
                        ticketID: id, purpose: "ack", messageID: "o1@x", mailFrom: "", recipients: ["a@b.test"],
                        raw: [1, 2], nextAttemptAt: now, createdAt: now))
                try tx.save(MailboxCheckpoint(mailbox: "support", uidValidity: 1, lastUID: 5))
                throw Boom()
            }
        }
        let state = try await store.read { tx in
            (
                try tx.tickets().count, try tx.outbox(status: nil).count, try tx.checkpoint(mailbox: "support"),
                try tx.ticketID(forMessageID: "m1@x")
            )
        }
        #expect(state.0 == 0)
        #expect(state.1 == 0)
        #expect(state.2 == nil)
        #expect(state.3 == nil)
        let next = try await store.write { try $0.nextTicketID(kind: .incident) }
        #expect(next.description == "INC-000001")
    }

    @Test("a mail queued unrendered keeps its render job, and completing it fills the outbox bytes and its article")
    func completeOutgoing() async throws {
        let store = try SQLiteTicketStore(path: path)
        let now = self.now
        let ticket = sampleTicket(TicketID(kind: .incident, number: 1))
        let deferred = DeferredMail(
            template: "acknowledgement", locale: "de", values: ["ticket_id": .text("INC-000001")],
            from: ticket.requester, to: [ticket.requester], replyTo: [], inReplyTo: nil, references: [], date: now,
            headers: [])
        let id = try await store.write { tx -> TicketID in
            let id = try tx.nextTicketID(kind: .incident)
            var t = ticket
            t.id = id
            try tx.insert(t)
            for n in 1...2 {
                try tx.insert(
                    Article(
                        ticketID: id, direction: .outbound, author: .system, from: t.requester, to: [t.requester],
                        subject: "", messageID: "o\(n)@x", text: "", createdAt: now), rawMailID: nil)
                try tx.enqueue(
                    OutboxItem(
                        ticketID: id, purpose: "ack", messageID: "o\(n)@x", mailFrom: "", recipients: ["a@b.test"],
                        raw: [], deferred: deferred, nextAttemptAt: now, createdAt: now))
            }
            return id
        }
        #expect(try await store.read { try $0.outbox(status: nil).map(\.deferred) } == [deferred, deferred])
        // The sender completes each mail in its own transaction, in any order.
        try await store.write {
            try $0.completeOutgoing(messageID: "o2@x", subject: "Second", text: "two", raw: [2, 2])
        }
        try await store.write { try $0.completeOutgoing(messageID: "o1@x", subject: "First", text: "one", raw: [1]) }
        let articles = try await store.read { try $0.articles(of: id) }
        #expect(articles.map(\.subject) == ["First", "Second"])
        #expect(articles.map(\.text) == ["one", "two"])
        let outbox = try await store.read { try $0.outbox(status: nil) }
        #expect(outbox.map(\.raw) == [[1], [2, 2]])
        #expect(outbox.map(\.deferred) == [nil, nil])
    }

    @Test("a ticket's conversation and its queued mails are found through indexes, never by scanning the outbox")
    func queuedMailQueriesUseIndexes() async throws {
        _ = try SQLiteTicketStore(path: path)  // creates and migrates the store
        let plans = try await DatabaseQueue(path: path).read { db in
            try [SQLiteTransaction.conversationSQL, SQLiteTransaction.queuedMailsSQL].map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN \(sql)", arguments: ["INC-000001"])
                    .map { $0["detail"] as String }
            }
        }
        for plan in plans {
            #expect(plan.contains { $0.contains("outbox USING INDEX outbox_queued_ticket") }, "\(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN") && $0.contains("outbox") }, "\(plan)")
        }
    }

    @Test("a mail queued unrendered shows as a queued article in its place, and rendering writes that article once")
    func articleWrittenWhenRendered() async throws {
        let store = try SQLiteTicketStore(path: path)
        let id = TicketID(kind: .incident, number: 1)
        let ticket = sampleTicket(id)
        let agent = MailAddress(name: "Anna", address: "anna@example.test")
        let t0 = now
        @Sendable func inbound(_ messageID: String, at: Date) -> Article {
            Article(
                ticketID: id, direction: .inbound, author: .requester, from: ticket.requester, to: [], subject: "s",
                messageID: messageID, text: "t", createdAt: at)
        }
        @Sendable func queue(_ messageID: String, to: MailAddress, author: AuthorRole, at: Date) -> OutboxItem {
            let job = DeferredMail(
                template: "acknowledgement", locale: "en", values: [:], from: agent, to: [to], replyTo: [],
                inReplyTo: nil, references: [], date: at, headers: [], author: author, isInternal: author == .agent)
            return OutboxItem(
                ticketID: id, purpose: "ack", messageID: messageID, mailFrom: "", recipients: [to.address], raw: [],
                deferred: job, nextAttemptAt: at, createdAt: at)
        }
        // The first mail and its acknowledgement share an instant; a reply comes later, then a queued notice.
        let inside = try await store.write { tx -> [String] in
            try tx.insert(ticket)
            try tx.insert(inbound("in-1@x", at: t0), rawMailID: nil)
            try tx.enqueue(queue("ack@x", to: ticket.requester, author: .system, at: t0))
            try tx.insert(inbound("in-2@x", at: t0 + 60), rawMailID: nil)
            try tx.enqueue(queue("note@x", to: agent, author: .agent, at: t0 + 60))
            return try tx.conversationMessageIDs(of: id)
        }
        #expect(inside == ["in-1@x", "ack@x", "in-2@x", "note@x"])
        #expect(try await store.read { try $0.conversationMessageIDs(of: id) } == inside)
        let queued = try await store.read { try $0.articles(of: id) }
        #expect(queued.map(\.messageID) == inside)
        #expect(queued.map(\.direction) == [.inbound, .outbound, .inbound, .outbound])
        #expect(queued[1].subject == "" && queued[1].text == "" && queued[1].author == .system)
        #expect(queued[3].author == .agent && queued[3].isInternal && queued[3].to == [agent])
        #expect(try await store.read { try $0.ticketID(forMessageID: "ack@x") } == id)
        // Rendering (later) writes each article once, at its queued time, and the conversation keeps its order.
        try await store.write { try $0.completeOutgoing(messageID: "ack@x", subject: "Ack", text: "a", raw: [1]) }
        try await store.write { try $0.completeOutgoing(messageID: "ack@x", subject: "Ack", text: "a", raw: [1]) }
        let rendered = try await store.read { try $0.articles(of: id) }
        #expect(rendered.map(\.messageID) == inside)
        #expect(rendered[1].subject == "Ack" && rendered[1].text == "a" && rendered[1].createdAt == t0)
        #expect(rendered[1].from == agent && rendered[1].to == [ticket.requester])
        #expect(rendered[3].subject == "")
        #expect(try await store.read { try $0.conversationMessageIDs(of: id) } == inside)
        let outbox = try await store.read { try $0.outbox(status: nil) }
        #expect(outbox.map(\.raw) == [[1], []])
    }

    /// Every field of a ticket set, nested approval and SLA clock included, with text that needs escaping.
    static var richTicket: Ticket {
        let at = Date(timeIntervalSince1970: 1_795_000_000.123_456)
        var ticket = Ticket(
            id: TicketID(kind: .change, number: 7), state: .awaitingApproval, subject: "Firewall \"rule\" \\ 2\n",
            requester: MailAddress(name: "Müller, Jo", address: "jo@customer.test"), priority: .p2,
            assignee: "anna", mailbox: "support", createdAt: at, updatedAt: at.addingTimeInterval(60),
            resolvedAt: at.addingTimeInterval(120), closedAt: at.addingTimeInterval(180),
            firstResponseAt: at.addingTimeInterval(30), impact: .high, urgency: .low, service: "network",
            requestType: "rule", assignmentGroup: "net-ops", linkedProblem: TicketID(kind: .problem, number: 3),
            linkedIncidents: [TicketID(kind: .incident, number: 1), TicketID(kind: .incident, number: 2)],
            changeType: .normal)
        ticket.reclassifiedAs = .serviceRequest
        ticket.workaround = "restart\tit"
        ticket.resolution = "done"
        ticket.pendingReason = "waiting"
        ticket.rejectionReason = "no"
        ticket.changeOutcome = .successful
        var approval = ApprovalRound(
            approvers: [Approver(address: "cab@example.test", name: "CAB")], quorum: .majority, requestedAt: at)
        approval.approvals = [ApprovalVote(approver: "cab@example.test", at: at, reason: "ok", messageID: "m@x")]
        ticket.approval = approval
        ticket.reopenCount = 2
        ticket.sla = SLAClock(
            policy: "gold", pausedSince: at, pauses: [SLAPause(start: at, end: at.addingTimeInterval(5))],
            firedThresholds: ["resolution@75"],
            breaches: [SLABreach(metric: .resolution, detectedAt: at, targetMinutes: 60, elapsedMinutes: 61)])
        return ticket
    }

    @Test("the hand-written ticket document reads back exactly, every field and nested part set or none")
    func ticketDocument() throws {
        let minimal = Ticket(
            id: TicketID(kind: .incident, number: 1), subject: "", requester: MailAddress(name: nil, address: "a@b"),
            mailbox: "m", createdAt: Date(timeIntervalSince1970: 0))
        for ticket in [Self.richTicket, minimal] {
            let json = try SQLiteTransaction.encodeTicket(ticket)
            #expect(try JSONDecoder.store.decode(Ticket.self, from: Data(json.utf8)) == ticket, "\(json)")
        }
    }

    @Test(
        "a queued render job reads back exactly: values of every kind, addresses, threading, header fields, author",
        arguments: [
            DeferredMail(
                template: "acknowledgement", locale: "de",
                values: [
                    "subject": .text("Drucker \"2. OG\" \\ kaputt\n\u{01}"), "is_request": .flag(false),
                    "count": .number(-42), "empty": .text(""),
                ],
                from: MailAddress(name: "IT, \"Desk\"", address: "it@example.test"),
                to: [MailAddress(name: nil, address: "jana@example.test")],
                replyTo: [MailAddress(name: "Desk", address: "it@example.test")], inReplyTo: "a@b",
                references: ["r1@x", "a@b"], date: Date(timeIntervalSince1970: 1_795_000_000.123_456),
                headers: [.init(name: "X-Ticketgate-Ticket", value: "INC-000001"), .init(name: "A", value: "é\t")],
                author: .agent, isInternal: true),
            DeferredMail(
                template: "closed", locale: "en", values: [:], from: MailAddress(name: nil, address: "it@x.test"),
                to: [], replyTo: [], inReplyTo: nil, references: [], date: Date(timeIntervalSince1970: 0),
                headers: []),
        ])
    func deferredJSON(mail: DeferredMail) throws {
        let json = SQLiteTransaction.encodeDeferred(mail)
        #expect(try JSONDecoder.store.decode(DeferredMail.self, from: Data(json.utf8)) == mail)
    }

    @Test(
        "hand-written address and recipient JSON reads back exactly, quotes, controls and non-ASCII included",
        arguments: [
            [MailAddress(name: nil, address: "plain@example.test")],
            [
                MailAddress(name: "Müller, \"Jo\" \\ IT", address: "jo@example.test"),
                MailAddress(name: "Tab\tLine\nCR\r\u{01}", address: "x@example.test"),
            ],
            [],
        ])
    func addressJSON(addresses: [MailAddress]) throws {
        let json = SQLiteTransaction.encodeAddresses(addresses)
        #expect(SQLiteTransaction.decodeAddresses(json) == addresses)
        let strings = addresses.map { $0.name ?? $0.address }
        let decoded = try JSONDecoder().decode(
            [String].self, from: Data(SQLiteTransaction.encodeStrings(strings).utf8))
        #expect(decoded == strings)
    }

    @Test("ticket numbers count per kind, across transactions; a rolled-back number is handed out again")
    func numbering() async throws {
        let store = try SQLiteTicketStore(path: path)
        let ids = try await store.write { tx in
            [
                try tx.nextTicketID(kind: .incident), try tx.nextTicketID(kind: .incident),
                try tx.nextTicketID(kind: .serviceRequest), try tx.nextTicketID(kind: .incident),
            ]
        }
        #expect(ids.map(\.description) == ["INC-000001", "INC-000002", "REQ-000001", "INC-000003"])
        let later = try await store.write { tx in
            // A mail that fails inside its savepoint gives its number back.
            _ = try? tx.attempt { () throws -> TicketID in
                _ = try tx.nextTicketID(kind: .incident)
                throw Boom()
            }
            return [try tx.nextTicketID(kind: .incident), try tx.nextTicketID(kind: .change)]
        }
        #expect(later.map(\.description) == ["INC-000004", "CHG-000001"])
        // A failed transaction gives its numbers back too.
        await #expect(throws: Boom.self) {
            try await store.write { tx in
                _ = try tx.nextTicketID(kind: .incident)
                throw Boom()
            }
        }
        #expect(try await store.write { try $0.nextTicketID(kind: .incident) }.description == "INC-000005")
    }

    @Test("the same inbound Message-ID cannot become two articles")
    func inboundUnique() async throws {
        let store = try SQLiteTicketStore(path: path)
        let ticket = sampleTicket(TicketID(kind: .incident, number: 1))
        let now = self.now
        try await store.write { tx in
            try tx.insert(ticket)
            try tx.insert(
                Article(
                    ticketID: ticket.id, direction: .inbound, author: .requester, from: ticket.requester, to: [],
                    subject: "s", messageID: "dup@x", text: "t", createdAt: now), rawMailID: nil)
        }
        #expect(try await store.read { try $0.hasInboundArticle(messageID: "dup@x") })
        await #expect(throws: (any Error).self) {
            try await store.write { tx in
                try tx.insert(
                    Article(
                        ticketID: ticket.id, direction: .inbound, author: .requester, from: ticket.requester, to: [],
                        subject: "s", messageID: "dup@x", text: "t", createdAt: now), rawMailID: nil)
            }
        }
        #expect(try await store.read { try $0.articles(of: ticket.id).count } == 1)
    }

    @Test("every Message-ID finds its ticket: inbound by its article, outbound and queued by their reference row")
    func messageIDsFindTheirTicket() async throws {
        let store = try SQLiteTicketStore(path: path)
        let first = sampleTicket(TicketID(kind: .incident, number: 1))
        let second = sampleTicket(TicketID(kind: .incident, number: 2))
        let now = self.now
        try await store.write { tx in
            try tx.insert(first)
            try tx.insert(second)
            let articles: [(Ticket, String, Article.Direction)] = [
                (first, "in-1@x", .inbound), (second, "in-2@x", .inbound), (first, "out-1@x", .outbound),
            ]
            for (ticket, id, direction) in articles {
                try tx.insert(
                    Article(
                        ticketID: ticket.id, direction: direction, author: .requester, from: ticket.requester, to: [],
                        subject: "s", messageID: id, text: "t", createdAt: now), rawMailID: nil)
            }
            try tx.enqueue(
                OutboxItem(
                    ticketID: second.id, purpose: "ack", messageID: "queued@x", mailFrom: "", recipients: ["a@b.test"],
                    raw: [1], nextAttemptAt: now, createdAt: now))
        }
        let found = try await store.read { tx in
            try ["in-1@x", "in-2@x", "out-1@x", "queued@x", "unknown@x"].map { try tx.ticketID(forMessageID: $0) }
        }
        #expect(found == [first.id, second.id, first.id, second.id, nil])
        // An inbound mail's own article row is its reference: no second row for it.
        let references = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT message_id FROM message_ref ORDER BY message_id")
        }
        #expect(references == ["out-1@x", "queued@x"])
    }

    @Test(
        "outbox, reference and audit rows written together: in queue order, read back in their transaction, undone with a failed mail"
    )
    func queuedRowsWrittenTogether() async throws {
        let store = try SQLiteTicketStore(path: path)
        let ticket = sampleTicket(TicketID(kind: .incident, number: 1))
        let now = self.now
        @Sendable func item(_ id: String) -> OutboxItem {
            OutboxItem(
                ticketID: ticket.id, purpose: "ack", messageID: id, mailFrom: "", recipients: ["a@b.test"], raw: [1],
                nextAttemptAt: now, createdAt: now)
        }
        @Sendable func entry(_ action: String) -> AuditEntry {
            AuditEntry(ticketID: ticket.id, at: now, actor: "t", viaMessageID: nil, action: action)
        }
        // More than one multi-row statement's worth, so the rows span statements.
        let count = 150
        let seenInside = try await store.write { tx -> [Int] in
            try tx.insert(ticket)
            for index in 0..<count {
                try tx.enqueue(item("m\(index)@x"))
                try tx.append(entry("a\(index)"))
            }
            // Read in the same transaction: every queued row is there.
            let inside = [try tx.outbox(status: .pending).count, try tx.auditTrail(of: ticket.id).count]
            // A mail that fails after queueing leaves none of its rows; one that succeeds keeps them.
            _ = try? tx.attempt { () throws -> Void in
                try tx.enqueue(item("failed@x"))
                try tx.append(entry("failed"))
                throw Boom()
            }
            try tx.attempt {
                try tx.enqueue(item("kept@x"))
                try tx.append(entry("kept"))
            }
            try tx.enqueue(item("last@x"))
            return inside
        }
        #expect(seenInside == [count, count])
        let outbox = try await store.read { try $0.outbox(status: nil) }.map(\.messageID)
        #expect(outbox == (0..<count).map { "m\($0)@x" } + ["kept@x", "last@x"])
        let audit = try await store.read { try $0.auditTrail(of: ticket.id) }.map(\.action)
        #expect(audit == (0..<count).map { "a\($0)" } + ["kept"])
        let found = try await store.read { tx in
            try ["m149@x", "kept@x", "failed@x"].map { try tx.ticketID(forMessageID: $0) }
        }
        #expect(found == [ticket.id, ticket.id, nil])
    }

    @Test(
        "a batch announced ahead answers as the database would: stored and queued raw mails, inbound Message-IDs, people"
    )
    func anticipatedBatch() async throws {
        let store = try SQLiteTicketStore(path: path)
        let now = self.now
        let ticket = sampleTicket(TicketID(kind: .incident, number: 1))
        @Sendable func raw(_ uid: UInt32) -> RawMail {
            RawMail(mailbox: "support", uidValidity: 7, uid: uid, messageID: nil, bytes: [UInt8(uid)], receivedAt: now)
        }
        @Sendable func inbound(_ messageID: String) -> Article {
            Article(
                ticketID: ticket.id, direction: .inbound, author: .requester, from: ticket.requester, to: [],
                subject: "s", messageID: messageID, text: "t", createdAt: now)
        }
        let stored = try await store.write { tx in
            try tx.insert(ticket)
            let id = try tx.insert(raw(2))
            try tx.insert(inbound("old@x"), rawMailID: id)
            try tx.addParticipant(MailAddress(address: "Known@c.test"), role: .requester, to: ticket.id)
            try tx.markUndeliverable("gone@c.test", reason: "5.1.1 no such user", at: now)
            return id
        }
        let seen = try await store.write { tx in
            try tx.anticipate(
                BatchPreview(
                    mailbox: "support", uidValidity: 7, uids: [1, 2, 3], messageIDs: ["old@x", "new@x"],
                    addresses: ["known@c.test", "Stranger@c.test", "gone@c.test"]))
            let ids = [
                try tx.insertNew(raw(1)), try tx.insertNew(raw(2)), try tx.insertNew(raw(1)), try tx.insertNew(raw(9)),
            ]
            let before = [try tx.hasInboundArticle(messageID: "old@x"), try tx.hasInboundArticle(messageID: "new@x")]
            try tx.insert(inbound("new@x"), rawMailID: ids[0])
            let people = [
                try tx.isParticipantAnywhere("known@c.test"), try tx.isParticipantAnywhere("stranger@c.test"),
                try tx.undeliverableReason("gone@c.test") != nil,
            ]
            try tx.addParticipant(MailAddress(address: "stranger@c.test"), role: .requester, to: ticket.id)
            return (
                ids: ids, before: before, after: try tx.hasInboundArticle(messageID: "new@x"), people: people,
                known: try tx.isParticipantAnywhere("Stranger@c.test")
            )
        }
        // UID 2 was stored before and UID 1 just now: neither twice. UID 9 (not announced) is looked up.
        #expect(seen.ids[1] == nil && seen.ids[2] == nil)
        let first = try #require(seen.ids[0])
        let other = try #require(seen.ids[3])
        #expect(first > stored && other > first)
        #expect(seen.before == [true, false] && seen.after)
        #expect(seen.people == [true, false, true] && seen.known)
        // What was queued is in the database with the ids handed out.
        let after = try await store.read { tx in
            (
                try tx.articles(of: ticket.id).map(\.messageID), try tx.participants(of: ticket.id),
                try [1, 2, 3, 9].map { try tx.hasRawMail(mailbox: "support", uidValidity: 7, uid: $0) }
            )
        }
        #expect(after.0 == ["old@x", "new@x"])
        #expect(after.1 == ["known@c.test", "stranger@c.test"])
        #expect(after.2 == [true, true, false, true])
        // The ids handed out are those of the right rows.
        let uids = try await store.write { tx in
            try tx.quarantine(rawMailID: first, reason: "check", at: now)
            try tx.quarantine(rawMailID: other, reason: "check", at: now)
            return try tx.quarantined().map(\.uid)
        }
        #expect(uids == [1, 9])
    }

    @Test("a ticket created in a transaction knows its conversation there exactly as the database tells it later")
    func newTicketConversation() async throws {
        let store = try SQLiteTicketStore(path: path)
        let id = TicketID(kind: .incident, number: 1)
        let ticket = sampleTicket(id)
        let now = self.now
        @Sendable func article(_ messageID: String, _ direction: Article.Direction, _ author: AuthorRole, hidden: Bool)
            -> Article
        {
            Article(
                ticketID: id, direction: direction, author: author,
                from: MailAddress(name: nil, address: "x@customer.test"), to: [], subject: "s",
                messageID: messageID,
                text: "t", isInternal: hidden, createdAt: now)
        }
        struct Undone: Error {}
        let inside = try await store.write { tx -> [String] in
            try tx.insert(ticket)
            try tx.insert(article("in-1@x", .inbound, .requester, hidden: false), rawMailID: nil)
            try tx.insert(article("note@x", .inbound, .agent, hidden: true), rawMailID: nil)
            try tx.insert(article("ack@x", .outbound, .system, hidden: false), rawMailID: nil)
            // An article a savepoint takes back is not part of it either.
            _ = try? tx.attempt {
                try tx.insert(article("undone@x", .inbound, .requester, hidden: false), rawMailID: nil)
                throw Undone()
            }
            try tx.insert(article("in-2@x", .inbound, .requester, hidden: false), rawMailID: nil)
            return try tx.conversationMessageIDs(of: id)
        }
        #expect(inside == ["in-1@x", "ack@x", "in-2@x"])
        #expect(try await store.read { try $0.conversationMessageIDs(of: id) } == inside)
    }

    @Test("an inbound article whose text is its raw mail's keeps it only there and reads back parsed")
    func articleTextInRaw() async throws {
        let store = try SQLiteTicketStore(path: path)
        let ticket = sampleTicket(TicketID(kind: .incident, number: 1))
        let now = self.now
        // Quoted-printable: the text differs from the bytes, so only a parse can give it back.
        let raw = Array(
            """
            From: Alice <alice@customer.test>\r
            Subject: Printer\r
            Message-ID: <in@x>\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Der Drucker im B=C3=BCro druckt nicht.\r
            Gr=C3=BC=C3=9Fe=\r
            , Alice\r

            """.utf8)
        let text = MailParser.parse(raw).text
        #expect(text.contains("Büro") && text.contains("Grüße, Alice"))
        try await store.write { tx in
            try tx.insert(ticket)
            let rawID = try tx.insert(
                RawMail(mailbox: "support", uidValidity: 1, uid: 1, messageID: "in@x", bytes: raw, receivedAt: now))
            let article = Article(
                ticketID: ticket.id, direction: .inbound, author: .requester, from: ticket.requester, to: [],
                subject: "Printer", messageID: "in@x", text: text, createdAt: now)
            try tx.insert(article, rawMailID: rawID, textInRaw: true)
            // A bounce's article has text of its own beside its raw mail.
            var own = article
            own.messageID = "own@x"
            own.text = "Delivery failed"
            try tx.insert(own, rawMailID: rawID)
        }
        let articles = try await store.read { try $0.articles(of: ticket.id) }
        #expect(articles.map(\.text) == [text, "Delivery failed"])
        // A mail too large for the database keeps its bytes in a file (then retried from quarantine): read from there.
        let file = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("big.eml").path
        try Data(raw).write(to: URL(fileURLWithPath: file))
        func onDisk(_ path: String) -> RawMail {
            RawMail(
                mailbox: "m", uidValidity: 1, uid: 1, messageID: nil, bytes: [], receivedAt: Date(), path: path)
        }
        #expect(SQLiteTransaction.rawText(onDisk(file)) == text)
        #expect(SQLiteTransaction.rawText(onDisk(file + "-gone")) == "(text unavailable: its raw mail is gone)")
        let stored = try await DatabaseQueue(path: path).read {
            try String.fetchAll($0, sql: "SELECT text FROM article ORDER BY id")
        }
        #expect(stored == ["", "Delivery failed"])
    }

    @Test("within one transaction an address reads as undeliverable right after it is marked, and not after clearing")
    func undeliverableWithinTransaction() async throws {
        let store = try SQLiteTicketStore(path: path)
        let now = self.now
        let seen = try await store.write { tx in
            var seen = [try tx.undeliverableReason("Bob@Customer.test")]
            try tx.markUndeliverable("bob@customer.test", reason: "5.1.1 no such user", at: now)
            seen.append(try tx.undeliverableReason("BOB@customer.test"))
            // A savepoint that clears it and fails leaves it marked.
            _ = try? tx.attempt { () throws -> Void in
                try tx.clearUndeliverable("bob@customer.test")
                #expect(try tx.undeliverableReason("bob@customer.test") == nil)
                throw Boom()
            }
            seen.append(try tx.undeliverableReason("bob@customer.test"))
            try tx.clearUndeliverable("bob@customer.test")
            seen.append(try tx.undeliverableReason("bob@customer.test"))
            return seen
        }
        #expect(seen == [nil, "5.1.1 no such user", "5.1.1 no such user", nil])
    }

    @Test("what is known of a sender (participant anywhere, language) stays right as the transaction writes and undoes")
    func senderFactsWithinTransaction() async throws {
        let store = try SQLiteTicketStore(path: path)
        let ticket = sampleTicket(TicketID(kind: .incident, number: 1))
        let carol = MailAddress(name: nil, address: "carol@x.test")
        let seen = try await store.write { tx in
            func facts() throws -> String {
                "\(try tx.isParticipantAnywhere("Carol@x.test")) \(try tx.language(of: "carol@X.test") ?? "-")"
            }
            try tx.insert(ticket)
            var seen = [try facts()]
            _ = try? tx.attempt { () throws -> Void in
                try tx.addParticipant(carol, role: .requester, to: ticket.id)
                try tx.recordLanguage("de", for: "carol@x.test")
                #expect(try facts() == "true de")
                throw Boom()
            }
            seen.append(try facts())
            try tx.addParticipant(carol, role: .requester, to: ticket.id)
            try tx.recordLanguage("fr", for: "CAROL@x.test")
            seen.append(try facts())
            return seen
        }
        #expect(seen == ["false -", "false -", "true fr"])
        let after = try await store.read { tx in
            "\(try tx.isParticipantAnywhere("carol@x.test")) \(try tx.language(of: "carol@x.test") ?? "-")"
        }
        #expect(after == "true fr")
    }

    @Test(
        "automatic mails of the last hour count exactly: stored before, queued in the transaction, undone; a row keeps 70 minutes"
    )
    func automaticMailCountWithinTransaction() async throws {
        let store = try SQLiteTicketStore(path: path)
        // Near the real clock, so the transaction counts from what it read with the address.
        let now = Date()
        @Sendable func item(_ id: String, to: String, automatic: Bool = true, minutesAgo: Double) -> OutboxItem {
            let at = now.addingTimeInterval(-60 * minutesAgo)
            return OutboxItem(
                ticketID: nil, purpose: "ack", messageID: id, mailFrom: automatic ? "" : "desk@x.test",
                recipients: [to], raw: [1], nextAttemptAt: at, createdAt: at)
        }
        try await store.write { tx in
            try tx.enqueue(item("o1@x", to: "a@x.test", minutesAgo: 50))
            try tx.enqueue(item("o2@x", to: "A@x.test", minutesAgo: 10))
            try tx.enqueue(item("o3@x", to: "a@x.test", automatic: false, minutesAgo: 5))
            try tx.enqueue(item("o4@x", to: "a@x.test", minutesAgo: 90))
            try tx.enqueue(item("o5@x", to: "b@x.test", minutesAgo: 1))
        }
        let counts = try await store.write { tx -> [Int] in
            func count(_ minutes: Double) throws -> Int {
                try tx.automaticMailCount(to: "a@X.test", since: now.addingTimeInterval(-60 * minutes))
            }
            _ = try tx.language(of: "a@x.test")  // what the intake asks first
            var counts = [try count(60), try count(20), try count(120)]
            var twice = item("o6@x", to: "a@x.test", minutesAgo: 0)
            twice.recipients.append("A@X.test")  // one row, as the table keeps it
            try tx.enqueue(twice)
            counts += [try count(60), try count(20)]
            _ = try? tx.attempt { () throws -> Void in
                try tx.enqueue(item("o7@x", to: "a@x.test", minutesAgo: 0))
                counts.append(try count(60))
                throw Boom()
            }
            counts.append(try count(60))
            return counts
        }
        // The mail of 90 minutes ago is older than the 70 minutes before the latest one that a row keeps.
        #expect(counts == [2, 1, 2, 3, 2, 4, 3])
        let later = try await store.read { tx in
            try tx.automaticMailCount(to: "a@x.test", since: now.addingTimeInterval(-3600))
        }
        #expect(later == 3)
    }

    @Test("a store written before the WITHOUT ROWID tables (v9) keeps its references, people and counts")
    func migrationToWithoutRowid() async throws {
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: path)
        try SQLiteTicketStore.migrator.migrate(old, upTo: "v8-article-text-in-raw")
        try await old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO ticket (id, kind, number, state, subject, requester_address, priority, mailbox,
                        created_at, updated_at) VALUES ('INC-000001', 'incident', 1, 'new', 's', 'a@x.test', 3, 'm', 0, 0);
                    INSERT INTO message_ref VALUES ('m1@x', 'INC-000001'), ('m2@x', 'INC-000001');
                    INSERT INTO participant VALUES ('INC-000001', 'a@x.test', 'A', 'requester');
                    INSERT INTO person VALUES ('a@x.test', 'de');
                    INSERT INTO outbox (id, purpose, message_id, mail_from, recipients_json, raw, status, attempts,
                        next_attempt_at, created_at) VALUES (1, 'ack', 'o@x', '', '[]', x'', 'sent', 1, 0, 1000);
                    INSERT INTO outbox_recipient VALUES (1, 'a@x.test', 1, 1000), (1, 'a@x.test', 1, 1000);
                    """)
        }
        try old.close()
        let store = try SQLiteTicketStore(path: path)
        let id = try #require(TicketID("INC-000001"))
        let read = try await store.read { tx in
            (
                try tx.ticketID(forMessageID: "m2@x"), try tx.participants(of: id), try tx.language(of: "A@x.test"),
                try tx.isParticipantAnywhere("a@x.test"),
                try tx.automaticMailCount(to: "a@x.test", since: Date(timeIntervalSince1970: 999))
            )
        }
        #expect(read.0 == id)
        #expect(read.1 == ["a@x.test"])
        #expect(read.2 == "de")
        #expect(read.3)
        #expect(read.4 == 1)  // the doubled row (same mail, same address) counts once
        let kinds = try await DatabaseQueue(path: path).read {
            try String.fetchAll(
                $0,
                sql: """
                    SELECT name FROM sqlite_master WHERE name IN ('message_ref', 'participant', 'person',
                        'outbox_recipient') AND sql LIKE '%WITHOUT ROWID' ORDER BY name
                    """)
        }
        #expect(kinds == ["message_ref", "outbox_recipient", "participant", "person"])
        // v11: what is known of an address is its person row; the address index of participants is gone.
        let indexes = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'participant'")
        }
        #expect(!indexes.contains("participant_address"))
        // It keeps its 4 KB pages (a new store gets 16 KB), and its log is still checkpointed at 8 MB.
        let pages = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "PRAGMA page_size")
        }
        #expect(pages == 4096)
        let fresh = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("fresh.sqlite").path
        _ = try SQLiteTicketStore(path: fresh)
        #expect(try await DatabaseQueue(path: fresh).read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == 16384)
    }

    @Test("checkpoints, raw mail keys, participants and the outbox round-trip")
    func roundTrip() async throws {
        let store = try SQLiteTicketStore(path: path)
        let ticket = sampleTicket(TicketID(kind: .incident, number: 3))
        let now = self.now
        try await store.write { tx in
            try tx.insert(ticket)
            try tx.addParticipant(MailAddress(address: "Bob@Customer.test"), role: .requester, to: ticket.id)
            let raw = RawMail(
                mailbox: "support", uidValidity: 9, uid: 4, messageID: "r@x", bytes: Array("raw".utf8), receivedAt: now)
            let first = try tx.insertNew(raw)
            #expect(first != nil)
            // The same mailbox, UIDVALIDITY and UID again: not stored twice.
            #expect(try tx.insertNew(raw) == nil)
            var other = raw
            other.uidValidity = 10
            #expect(try tx.insertNew(other).map { $0 > first! } == true)
            try tx.save(MailboxCheckpoint(mailbox: "support", uidValidity: 9, lastUID: 4))
            try tx.enqueue(
                OutboxItem(
                    ticketID: ticket.id, purpose: "ack", messageID: "o@x", mailFrom: "",
                    recipients: ["a@b.test", "c@d.test"], raw: [0, 255, 13, 10], nextAttemptAt: now, createdAt: now))
        }
        let read = try await store.read { tx in
            (
                try tx.participants(of: ticket.id), try tx.hasRawMail(mailbox: "support", uidValidity: 9, uid: 4),
                try tx.hasRawMail(mailbox: "support", uidValidity: 11, uid: 4), try tx.checkpoint(mailbox: "support"),
                try tx.dueOutbox(now: now, limit: 10), try tx.dueOutbox(now: now.addingTimeInterval(-1), limit: 10),
                try tx.ticketID(forMessageID: "o@x")
            )
        }
        #expect(read.0 == ["bob@customer.test"])
        #expect(read.1)
        #expect(!read.2)
        #expect(read.3 == MailboxCheckpoint(mailbox: "support", uidValidity: 9, lastUID: 4))
        #expect(read.4.map(\.recipients) == [["a@b.test", "c@d.test"]])
        #expect(read.4.first?.raw == [0, 255, 13, 10])
        #expect(read.5.isEmpty)
        #expect(read.6 == ticket.id)
        let outboxID = try #require(read.4.first?.id)
        try await store.write {
            try $0.markAttemptFailed(
                outboxID: outboxID, error: "451", nextAttemptAt: now.addingTimeInterval(60), permanent: false)
        }
        #expect(try await store.read { try $0.dueOutbox(now: now, limit: 10) }.isEmpty)
        try await store.write { try $0.markSent(outboxID: outboxID, at: now) }
        let sent = try await store.read { try $0.outbox(status: .sent) }
        #expect(sent.first?.attempts == 2)
        #expect(sent.first?.lastError == nil)
    }
}

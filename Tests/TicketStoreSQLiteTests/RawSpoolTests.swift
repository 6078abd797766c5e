import Foundation
import ServiceDesk
import Testing

@testable import TicketStoreSQLite

@Suite("Raw mail spool")
struct RawSpoolTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tg-spool-\(UUID().uuidString)")
        .appendingPathComponent("raw").path

    func mail(_ index: Int, size: Int) -> [UInt8] {
        Array("Subject: mail \(index)\r\n\r\n".utf8) + [UInt8](repeating: UInt8(65 + index % 26), count: size)
    }

    func raw(_ location: RawLocation, size: Int) -> RawMail {
        RawMail(
            mailbox: "m", uidValidity: 1, uid: 1, messageID: nil, bytes: [], receivedAt: Date(), path: location.path,
            offset: location.offset, size: size)
    }

    @Test("mails read back from their offsets, also after a restart appends to the same segment and after rotation")
    func appendAndRead() throws {
        let mails = (0..<5).map { mail($0, size: 100 * ($0 + 1)) }
        let spool = RawSpool(directory: directory, segmentLimit: 1_000)
        let first = try spool.append(Array(mails[0..<2]))
        #expect(first.map(\.offset) == [0, Int64(mails[0].count)])
        #expect(first[0].path == first[1].path)
        // A new process (a later cron run) goes on in the newest segment while it has room.
        let second = try RawSpool(directory: directory, segmentLimit: 1_000).append([mails[2]])
        #expect(second == [RawLocation(path: first[0].path, offset: Int64(mails[0].count + mails[1].count))])
        // Past the limit a new segment starts; a batch is never split across segments.
        let third = try spool.append(Array(mails[3..<5]))
        #expect(third[0].path != first[0].path && third[0].offset == 0 && third[1].path == third[0].path)
        let locations = first + second + third
        for (location, bytes) in zip(locations, mails) {
            #expect(raw(location, size: bytes.count).contents() == bytes)
            #expect(RawSpool.read(path: location.path, offset: location.offset, size: bytes.count) == bytes)
        }
        #expect(raw(locations[4], size: mails[4].count).contents(limit: 10) == Array(mails[4].prefix(10)))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".mails") }.count == 2)
    }

    @Test("appended without waiting, mails are on disk once waitUntilOnDisk returns, across rotation and many batches")
    func flushedInTheBackground() throws {
        let spool = RawSpool(directory: directory, segmentLimit: 4_000)
        let mails = (0..<40).map { mail($0, size: 50 + $0 * 10) }
        var located: [(location: RawLocation, size: Int)] = []
        for batch in stride(from: 0, to: mails.count, by: 4) {
            let part = Array(mails[batch..<batch + 4])
            let locations = try spool.append(part, waitForDisk: false)
            located += zip(locations, part.map(\.count)).map { ($0, $1) }
        }
        #expect(Set(located.map(\.location.path)).count > 1)
        // Waiting for everything, then again for what is already on disk (answered at once).
        try spool.waitUntilOnDisk(located)
        try spool.waitUntilOnDisk(Array(located.prefix(3)))
        for ((location, size), bytes) in zip(located, mails) {
            #expect(size == bytes.count)
            #expect(raw(location, size: size).contents() == bytes)
        }
    }

    @Test("segments started within one millisecond get names of their own")
    func quickRotation() throws {
        // A limit of one byte: every append starts a new segment, twenty of them within a few milliseconds.
        let spool = RawSpool(directory: directory, segmentLimit: 1)
        let mails = (0..<20).map { mail($0, size: 10) }
        let locations = try mails.map { try #require(try spool.append([$0]).first) }
        #expect(Set(locations.map(\.path)).count == 20)
        for (location, bytes) in zip(locations, mails) {
            #expect(raw(location, size: bytes.count).contents() == bytes)
        }
    }

    @Test("a segment shorter than its row says, or gone, reads as nothing rather than as wrong bytes")
    func shortOrMissing() throws {
        let bytes = mail(1, size: 500)
        let location = try #require(try RawSpool(directory: directory).append([bytes]).first)
        #expect(raw(location, size: bytes.count + 1).contents() == nil)
        try FileManager.default.removeItem(atPath: location.path)
        #expect(raw(location, size: bytes.count).contents() == nil)
        // A whole file of its own (a mail too large to load) reads whole; the database's own bytes read as they are.
        let file = directory + "/big.eml"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect(
            RawMail(mailbox: "m", uidValidity: 1, uid: 1, messageID: nil, bytes: [], receivedAt: Date(), path: file)
                .contents() == bytes)
        #expect(
            RawMail(mailbox: "m", uidValidity: 1, uid: 1, messageID: nil, bytes: bytes, receivedAt: Date())
                .contents(limit: 3) == Array(bytes.prefix(3)))
    }

    @Test("a spool that cannot write says which directory, and appends nothing")
    func unwritable() throws {
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        // A file where the directory should be.
        #expect(FileManager.default.createFile(atPath: directory, contents: Data("x".utf8)))
        #expect {
            try RawSpool(directory: directory).append([mail(1, size: 10)])
        } throws: { error in
            "\(error)".contains(directory)
        }
    }
}

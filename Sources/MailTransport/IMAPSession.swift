import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How to reach and log in to one IMAP mailbox. Secrets are resolved by the caller; this type never logs them.
public struct IMAPEndpoint: Sendable {
    /// TLS mode: implicit TLS (`imaps://`), STARTTLS required, or none (loopback and tests only).
    public enum Security: String, Sendable {
        case implicit
        case starttls
        case none
    }

    public var url: URL
    public var username: String
    public var password: String?
    public var oauthToken: String?
    public var security: Security
    public var caFile: String?
    public var verifyPeer: Bool
    public var connectTimeout: Duration
    public var ioTimeout: Duration

    public init(
        url: URL, username: String, password: String? = nil, oauthToken: String? = nil, security: Security? = nil,
        caFile: String? = nil, verifyPeer: Bool = true, connectTimeout: Duration = .seconds(15),
        ioTimeout: Duration = .seconds(120)
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.oauthToken = oauthToken
        self.security = security ?? (url.scheme?.lowercased() == "imaps" ? .implicit : .none)
        self.caFile = caFile
        self.verifyPeer = verifyPeer
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
    }

    /// `host:port` for messages; never includes credentials.
    public var serverName: String {
        "\(url.scheme ?? "imap")://\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")"
    }
}

/// What `SELECT` tells us about a mailbox; UIDVALIDITY and UIDNEXT anchor the sync checkpoint.
public struct MailboxStatus: Sendable, Equatable {
    public var uidValidity: UInt32
    public var uidNext: UInt32?
    public var exists: Int
    public var highestModSeq: UInt64?
}

/// One message as fetched in bulk: its UID, size, flags, internal date and raw RFC 5322 bytes.
public struct FetchedMessage: Sendable, Equatable {
    public var uid: UInt32
    public var size: Int
    public var flags: [String]
    public var internalDate: String?
    public var raw: [UInt8]
}

/// One IMAP connection: libcurl connects, negotiates TLS and logs in (`CURLOPT_CONNECT_ONLY`); this actor then speaks
/// IMAP itself over `curl_easy_send`/`curl_easy_recv`, so fetches are bulk and literal-safe. It runs on its own serial
/// queue because every call blocks.
public actor IMAPSession {
    private let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    /// The session's own queue as a task executor: `Task(executorPreference:)` with it starts the task on that
    /// queue at once (see `QueueExecutor`).
    public nonisolated var taskExecutor: any TaskExecutor { executor }

    public let endpoint: IMAPEndpoint
    private var handle: CurlHandle?
    private var reader = IMAPResponseReader()
    private var tagCounter = 0
    private var knownCapabilities: Set<String> = []
    /// The tag of the `CAPABILITY` sent right after login and not read yet: the next command goes out before its
    /// answer is read, which saves a round trip on every connection.
    private var capabilityTag: String?
    /// The tag of our own `LOGIN` when `connect(awaitingLogin: false)` left its answer unread: read before any other.
    private var loginTag: String?
    /// Set when that `LOGIN` was refused without saying the credentials are wrong: the first command is then done
    /// again over a connection on which libcurl logs in (it negotiates a SASL mechanism).
    private var retryWithLibcurlLogin = false
    /// Bulk fetches sent before they were asked for (`fetchMessages(_:sendingAhead:)`), oldest first, not read yet.
    private var sentAhead: [(set: String, tag: String)] = []
    /// Mails of fetches sent ahead that arrived before an earlier fetch completed.
    private var early: [FetchedMessage] = []
    private var receiveBuffer = [UInt8](repeating: 0, count: 256 * 1024)

    public init(endpoint: IMAPEndpoint) {
        self.endpoint = endpoint
        self.executor = QueueExecutor(label: "ticketgate.imap.\(endpoint.username)")
    }

    /// What the server offers after login (read when first needed).
    public var capabilities: Set<String> {
        do {
            try settleCapabilities()
        } catch {
            return []  // the connection is gone; the next command reports why
        }
        return knownCapabilities
    }

    private func settleCapabilities() throws(TransportError) {
        try settleLogin()
        guard let tag = capabilityTag else { return }
        capabilityTag = nil
        knownCapabilities = Self.parseCapabilities(try awaitCompletion(tag: tag, command: "CAPABILITY"))
    }

    /// Connects and logs in, then asks for the capabilities (libcurl does not expose the ones it saw) without
    /// waiting for the answer.
    ///
    /// With a password that an IMAP quoted string can carry, libcurl only connects (TCP and TLS; for STARTTLS also
    /// the greeting, `CAPABILITY` and `STARTTLS`) and this session sends `LOGIN` itself right after the greeting:
    /// one round trip instead of libcurl's `CAPABILITY` then `AUTHENTICATE`. OAuth, credentials that need a
    /// literal, a greeting with `LOGINDISABLED`, and a refusal that does not say the credentials are wrong
    /// (`[AUTHENTICATIONFAILED]`) go through libcurl's login, which negotiates a SASL mechanism.
    ///
    /// With `awaitingLogin` false the answer to our `LOGIN` is read with the first command's, which then travels
    /// in the same round trip (a sync's `SELECT`); a refused login is then that command's error.
    public func connect(awaitingLogin: Bool = true) throws(TransportError) {
        guard handle == nil else { return }
        if let login = Self.loginCommand(for: endpoint) {
            try open(libcurlLogin: false)
            // Over STARTTLS libcurl has read the greeting (and would have stopped at a PREAUTH).
            switch endpoint.security == .starttls ? .login : try readGreeting() {
            case .login:
                loginTag = try send(login)
                capabilityTag = try send("CAPABILITY")  // answered after the login, read when first needed
                if !awaitingLogin { return }
                do {
                    try settleLogin()
                    return
                } catch {
                    guard retryWithLibcurlLogin else { throw error }
                    retryWithLibcurlLogin = false
                }
            case .preauthenticated:
                capabilityTag = try send("CAPABILITY")
                return
            case .loginDisabled:
                handle = nil
            }
        }
        try openWithLibcurlLogin()
    }

    /// libcurl connects and logs in (negotiating a SASL mechanism); the capabilities are asked for unawaited.
    private func openWithLibcurlLogin() throws(TransportError) {
        try open(libcurlLogin: true)
        capabilityTag = try send("CAPABILITY")
    }

    /// `LOGIN "user" "password"` when both are printable ASCII (a quoted string holds them, `\` and `"` escaped)
    /// and no OAuth token is set; nil otherwise.
    static func loginCommand(for endpoint: IMAPEndpoint) -> String? {
        guard endpoint.oauthToken == nil else { return nil }
        let printable: (String) -> Bool = { $0.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
        let password = endpoint.password ?? ""
        guard printable(endpoint.username), printable(password), let user = try? quoted(endpoint.username),
            let secret = try? quoted(password)
        else { return nil }
        return "LOGIN \(user) \(secret)"
    }

    /// What a server's greeting leaves to do.
    enum Greeting {
        case login
        case preauthenticated
        /// `LOGINDISABLED`: the server takes only a SASL mechanism.
        case loginDisabled
    }

    /// Reads the server's greeting on a connection libcurl only opened, within the connect timeout (a server that
    /// accepts but never greets is as unreachable as one that does not answer); `BYE` throws.
    private func readGreeting() throws(TransportError) -> Greeting {
        let greeting = try readResponse(timeout: endpoint.connectTimeout)
        let text = greeting.text.uppercased()
        if text.hasPrefix("* BYE") {
            handle = nil
            throw .connectionLost(server: endpoint.serverName, detail: greeting.text)
        }
        if text.hasPrefix("* PREAUTH") { return .preauthenticated }
        guard greeting.kind == .untagged, text.hasPrefix("* OK") else {
            handle = nil
            throw .protocolViolation(server: endpoint.serverName, detail: "unexpected greeting: \(greeting.text)")
        }
        return text.contains("LOGINDISABLED") ? .loginDisabled : .login
    }

    /// Opens the connection with libcurl: with its IMAP login, or (`libcurlLogin` false) without credentials, where
    /// implicit TLS and plain connections are opened as a bare TLS or TCP stream (an `https`/`http` URL with
    /// `CONNECT_ONLY`, no proxy, no ALPN) and STARTTLS stops after `STARTTLS`.
    private func open(libcurlLogin: Bool) throws(TransportError) {
        let curl = CurlHandle()
        var components = URLComponents(url: endpoint.url, resolvingAgainstBaseURL: false)
        components?.path = "/"
        components?.user = nil
        components?.password = nil
        if !libcurlLogin && endpoint.security != .starttls {
            let implicit = endpoint.security == .implicit
            components?.port = endpoint.url.port ?? (implicit ? 993 : 143)
            components?.scheme = implicit ? "https" : "http"
            curl.set(CURLOPT_PROXY, "")
            curl.set(CURLOPT_SSL_ENABLE_ALPN, 0)
        }
        guard let url = components?.string else {
            throw .invalidArgument("the IMAP URL \(endpoint.url) is not valid")
        }
        curl.set(CURLOPT_URL, url)
        curl.set(CURLOPT_CONNECT_ONLY, 1)
        curl.set(CURLOPT_CONNECTTIMEOUT_MS, Int(endpoint.connectTimeout.milliseconds))
        if libcurlLogin {
            curl.set(CURLOPT_USERNAME, endpoint.username)
            if let token = endpoint.oauthToken {
                curl.set(CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2")
                curl.set(CURLOPT_XOAUTH2_BEARER, token)
            } else {
                curl.set(CURLOPT_PASSWORD, endpoint.password ?? "")
            }
        }
        switch endpoint.security {
        case .starttls: curl.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        case .implicit, .none: break
        }
        if let caFile = endpoint.caFile { curl.set(CURLOPT_CAINFO, caFile) }
        curl.set(CURLOPT_SSL_VERIFYPEER, endpoint.verifyPeer ? 1 : 0)
        curl.set(CURLOPT_SSL_VERIFYHOST, endpoint.verifyPeer ? 2 : 0)
        let code = curl.perform()
        guard code == CURLE_OK else {
            throw Self.mapConnectError(code, message: curl.message(for: code), endpoint: endpoint)
        }
        handle = curl
        reader = IMAPResponseReader()
        sentAhead = []
        early = []
        capabilityTag = nil
        loginTag = nil
        retryWithLibcurlLogin = false
    }

    /// Reads the answer to our own `LOGIN` if it is still unread. A refusal drops the connection and is an
    /// authentication failure; unless it says the credentials are wrong, `retryWithLibcurlLogin` is set.
    private func settleLogin() throws(TransportError) {
        guard let tag = loginTag else { return }
        loginTag = nil
        do {
            _ = try awaitCompletion(tag: tag, command: "LOGIN")
        } catch {
            handle = nil
            guard case .commandFailed(_, _, let response) = error else { throw error }
            retryWithLibcurlLogin = !response.uppercased().contains("[AUTHENTICATIONFAILED]")
            throw .authenticationFailed(server: endpoint.serverName, username: endpoint.username, detail: response)
        }
    }

    static func mapConnectError(_ code: CURLcode, message: String, endpoint: IMAPEndpoint) -> TransportError {
        let server = endpoint.serverName
        switch code {
        case CURLE_LOGIN_DENIED:
            return .authenticationFailed(server: server, username: endpoint.username, detail: message)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_RESOLVE_PROXY:
            return .unreachable(server: server, detail: message)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_USE_SSL_FAILED, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_CERTPROBLEM:
            return .tlsFailed(server: server, detail: message)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return .invalidArgument("the IMAP URL of \(server) is not usable: \(message)")
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            return .connectionLost(server: server, detail: message)
        default:
            return .protocolViolation(server: server, detail: message)
        }
    }

    static func parseCapabilities(_ responses: [IMAPResponse]) -> Set<String> {
        var result: Set<String> = []
        for response in responses where response.kind == .untagged {
            let words = response.text.split(separator: " ").map { $0.uppercased() }
            if words.count > 1 && words[1] == "CAPABILITY" {
                result.formUnion(words.dropFirst(2))
            }
        }
        return result
    }

    /// Closes politely when possible: LOGOUT is sent but its BYE not awaited (every change was acknowledged before, so
    /// the round trip would buy nothing); the handle is released either way.
    public func logout() {
        if handle != nil { _ = try? send("LOGOUT") }
        handle = nil
    }

    /// Drops the connection without a LOGOUT (after an error the stream state is unknown).
    public func disconnect() {
        handle = nil
    }

    public var isConnected: Bool { handle != nil }

    /// Selects (read-write) or examines (read-only) a folder and reads its UIDVALIDITY, UIDNEXT and message count.
    public func select(_ folder: String, readOnly: Bool = false) throws(TransportError) -> MailboxStatus {
        let name = try Self.quoted(ModifiedUTF7.encode(folder))
        let responses = try command("\(readOnly ? "EXAMINE" : "SELECT") \(name)")
        return try Self.parseSelect(responses, server: endpoint.serverName)
    }

    /// Selects a folder and, in the same round trip, reads the UIDs and sizes of the messages from `firstUID` on
    /// (what a sync fetches next, unless UIDVALIDITY changed). Sorted by UID. The range ends at the largest possible
    /// UID, not `*`: `n:*` answers with the highest message even below n, and Dovecot then loads its cache file for
    /// it, about 50 ms on a 100,000-mail folder, on every idle sync.
    public func select(_ folder: String, sizesFrom firstUID: UInt32) throws(TransportError)
        -> (status: MailboxStatus, sizes: [(uid: UInt32, size: Int)])
    {
        let selected = try select(folder, sizesFrom: firstUID, opening: nil)
        return (selected.status, selected.sizes)
    }

    /// `select(_:sizesFrom:)` that also fetches, in the same round trip, the first mails from `firstUID` on: the UIDs
    /// `firstUID ..< firstUID + opening.count`, each cut at `opening.bytes` (`BODY.PEEK[]<0.n>`, so a large mail
    /// costs no more memory than a small one). Returned are the mails that came whole (shorter than the cut and as
    /// long as their size), in UID order: the caller stores those at once and fetches the rest as usual.
    public func select(_ folder: String, sizesFrom firstUID: UInt32, opening: (count: Int, bytes: Int)?)
        throws(TransportError)
        -> (status: MailboxStatus, sizes: [(uid: UInt32, size: Int)], opening: [FetchedMessage])
    {
        let name = try Self.quoted(ModifiedUTF7.encode(folder))
        let first = max(1, firstUID)
        var commands = ["SELECT \(name)", "UID FETCH \(first):\(UInt32.max) (UID RFC822.SIZE)"]
        if let opening, opening.count > 0, opening.bytes > 0 {
            let last = UInt32(min(UInt64(first) + UInt64(opening.count) - 1, UInt64(UInt32.max)))
            commands.append(
                "UID FETCH \(first):\(last) (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.\(opening.bytes)>)")
        }
        let results = try pipeline(commands)
        let status = try Self.parseSelect(try results[0].get(), server: endpoint.serverName)
        // Dovecot interleaves the answers of pipelined fetches: a mail with a body belongs to the opening fetch,
        // whichever completion it arrived before; each UID counts once.
        var fetched = Self.parseFetch(try results[1].get())
        if commands.count > 2 { fetched += Self.parseFetch(try results[2].get()) }
        var sizes: [UInt32: Int] = [:]
        var bodies: [UInt32: FetchedMessage] = [:]
        for message in fetched where message.uid >= firstUID {
            if message.size > 0 || sizes[message.uid] == nil { sizes[message.uid] = message.size }
            if !message.raw.isEmpty { bodies[message.uid] = message }
        }
        let listed = sizes.map { (uid: $0.key, size: $0.value) }.sorted { $0.uid < $1.uid }
        let cut = opening?.bytes ?? 0
        let whole = bodies.values.filter { $0.raw.count == $0.size && $0.raw.count < cut }.sorted { $0.uid < $1.uid }
        return (status, listed, whole)
    }

    static func parseSelect(_ responses: [IMAPResponse], server: String) throws(TransportError) -> MailboxStatus {
        var uidValidity: UInt32?
        var uidNext: UInt32?
        var exists = 0
        var highestModSeq: UInt64?
        for response in responses {
            let text = response.text
            if let value = responseCode(text, "UIDVALIDITY") { uidValidity = UInt32(value) }
            if let value = responseCode(text, "UIDNEXT") { uidNext = UInt32(value) }
            if let value = responseCode(text, "HIGHESTMODSEQ") { highestModSeq = UInt64(value) }
            let words = text.split(separator: " ")
            if words.count >= 3, words[0] == "*", words[2].uppercased() == "EXISTS", let count = Int(words[1]) {
                exists = count
            }
        }
        guard let uidValidity else {
            throw .protocolViolation(server: server, detail: "SELECT returned no UIDVALIDITY")
        }
        return MailboxStatus(uidValidity: uidValidity, uidNext: uidNext, exists: exists, highestModSeq: highestModSeq)
    }

    private static func responseCode(_ text: String, _ name: String) -> String? {
        guard let range = text.range(of: "[\(name) ", options: .caseInsensitive) else { return nil }
        let rest = text[range.upperBound...]
        guard let end = rest.firstIndex(of: "]") else { return nil }
        return String(rest[..<end])
    }

    /// `UID SEARCH` with the given criteria; returns UIDs ascending.
    public func uidSearch(_ criteria: String) throws(TransportError) -> [UInt32] {
        let responses = try command("UID SEARCH \(criteria)")
        var uids: [UInt32] = []
        for response in responses where response.kind == .untagged {
            let words = response.text.split(separator: " ")
            guard words.count >= 2, words[1].uppercased() == "SEARCH" else { continue }
            uids.append(contentsOf: words.dropFirst(2).compactMap { UInt32($0) })
        }
        return uids.sorted()
    }

    /// Sizes of the messages in a UID range, to plan size-bounded fetch batches before any body is loaded.
    public func fetchSizes(_ set: String) throws(TransportError) -> [(uid: UInt32, size: Int)] {
        let responses = try command("UID FETCH \(set) (UID RFC822.SIZE)")
        return Self.parseFetch(responses).map { ($0.uid, $0.size) }
    }

    /// Bulk fetch of whole messages without setting `\Seen` (`BODY.PEEK[]`), one round trip for the whole set.
    public func fetchMessages(_ set: String) throws(TransportError) -> [FetchedMessage] {
        try fetchMessages(set, sendingAhead: nil)
    }

    /// Bulk fetch as above; the fetch of `next` is sent before this one's answer is read, so the server streams the
    /// next batch while this one is handed on and no round trip is spent waiting between batches. Asking for `next`
    /// afterwards reads the answer already under way; any other command first reads (and drops) it.
    public func fetchMessages(_ set: String, sendingAhead next: String?) throws(TransportError) -> [FetchedMessage] {
        try fetchMessages(set, sendingAhead: next.map { [$0] } ?? [])
    }

    /// Bulk fetch with several following fetches sent ahead, in the order they will be asked for (those already
    /// under way are not sent again). Unread answers wait in the socket and the server, not in memory: TCP holds
    /// the server back. Asking for anything but the oldest fetch under way first reads (and drops) them all.
    public func fetchMessages(_ set: String, sendingAhead next: [String]) throws(TransportError) -> [FetchedMessage] {
        let tag: String
        if let ahead = sentAhead.first, ahead.set == set {
            sentAhead.removeFirst()
            tag = ahead.tag
        } else {
            try settleSentAhead()
            tag = try send(Self.fetchCommand(set))
        }
        for following in next where !sentAhead.contains(where: { $0.set == following }) {
            sentAhead.append((following, try send(Self.fetchCommand(following))))
        }
        try settleCapabilities()
        // A server may answer pipelined fetches interleaved (Dovecot does): each mail goes to the set it belongs to
        // by its UID, whatever tagged completion it arrived before.
        let arrived = early + Self.parseFetch(try awaitCompletion(tag: tag, command: "UID FETCH"))
        let wanted = UIDRanges(set)
        let ahead = sentAhead.map { UIDRanges($0.set) }
        early = arrived.filter { mail in !wanted.contains(mail.uid) && ahead.contains { $0.contains(mail.uid) } }
        return arrived.filter { wanted.contains($0.uid) }
    }

    static func fetchCommand(_ set: String) -> String {
        "UID FETCH \(set) (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"
    }

    /// Reads and drops the answer to a fetch sent ahead that nobody asked for.
    private func settleSentAhead() throws(TransportError) {
        guard !sentAhead.isEmpty else { return }
        let pending = sentAhead
        sentAhead = []
        early = []
        try settleCapabilities()
        for ahead in pending {
            do {
                _ = try awaitCompletion(tag: ahead.tag, command: "UID FETCH")
            } catch {
                guard case .commandFailed = error else { throw error }
            }
        }
    }

    /// The messages of a fetch's untagged FETCH responses (those with a UID), each read by `FetchLine`, or by the
    /// general tokenizer when `FetchLine` leaves it.
    static func parseFetch(_ responses: [IMAPResponse]) -> [FetchedMessage] {
        var messages: [FetchedMessage] = []
        for response in responses where response.kind == .untagged {
            guard let message = FetchLine.parse(response) ?? tokenizedFetch(response), message.uid != 0 else {
                continue
            }
            messages.append(message)
        }
        return messages
    }

    /// One FETCH response read through the general tokenizer; nil when it is no FETCH response.
    static func tokenizedFetch(_ response: IMAPResponse) -> FetchedMessage? {
        let values = response.values()
        guard values.count >= 4, values[2].atom?.uppercased() == "FETCH", let items = values[3].list else {
            return nil
        }
        var message = FetchedMessage(uid: 0, size: 0, flags: [], internalDate: nil, raw: [])
        var index = 0
        while index + 1 < items.count {
            let key = items[index].atom?.uppercased() ?? ""
            let value = items[index + 1]
            switch key {
            case "UID": message.uid = value.atom.flatMap { UInt32($0) } ?? 0
            case "RFC822.SIZE": message.size = value.atom.flatMap { Int($0) } ?? 0
            case "FLAGS": message.flags = value.list?.compactMap(\.atom) ?? []
            case "INTERNALDATE": message.internalDate = value.stringValue
            default:
                if key.hasPrefix("BODY[") { message.raw = value.bytes ?? [] }
            }
            index += 2
        }
        return message
    }

    /// Streams one message to `path` with partial fetches of `chunk` bytes, so a huge mail never sits in memory.
    /// Returns the first bytes (up to 64 KiB) for reading its header.
    public func streamMessage(uid: UInt32, to path: String, chunk: Int = 1 << 20) throws(TransportError) -> [UInt8] {
        let temporary = path + ".part"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw .invalidArgument("cannot write \(temporary)")
        }
        var head: [UInt8] = []
        var offset = 0
        do {
            while true {
                let responses = try command("UID FETCH \(uid) (UID BODY.PEEK[]<\(offset).\(chunk)>)")
                guard let piece = Self.parseFetch(responses).first(where: { $0.uid == uid }) else {
                    throw TransportError.protocolViolation(
                        server: endpoint.serverName, detail: "UID \(uid) vanished while streaming")
                }
                if head.count < 65_536 { head += piece.raw.prefix(65_536 - head.count) }
                handle.write(Data(piece.raw))
                offset += piece.raw.count
                if piece.raw.count < chunk { break }
            }
            try? handle.synchronize()
            try? handle.close()
            _ = try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch let error as TransportError {
            try? handle.close()
            throw error
        } catch {
            try? handle.close()
            throw .invalidArgument("cannot write \(path): \(error)")
        }
        return head
    }

    /// Waits in IDLE until the server reports new mail, the timeout passes (re-issue before 29 minutes, RFC 2177) or
    /// the task is cancelled. Returns true when new mail arrived.
    public func idle(timeout: Duration) throws(TransportError) -> Bool {
        guard capabilities.contains("IDLE") else {
            throw .commandFailed(server: endpoint.serverName, command: "IDLE", response: "not supported")
        }
        try settleSentAhead()
        tagCounter += 1
        let tag = "tg\(tagCounter)"
        try sendAll(Array("\(tag) IDLE\r\n".utf8))
        while true {
            let response = try readResponse()
            if response.kind == .continuation { break }
            if case .tagged = response.kind {
                throw .commandFailed(server: endpoint.serverName, command: "IDLE", response: response.text)
            }
        }
        let deadline = ContinuousClock.now + timeout
        var newMail = false
        waiting: while ContinuousClock.now < deadline && !Task.isCancelled {
            while let response = try nextBuffered() {
                let words = response.text.uppercased().split(separator: " ")
                if words.count >= 3, words[0] == "*", words[2] == "EXISTS" || words[2] == "RECENT" {
                    newMail = true
                }
                if words.count >= 2, words[0] == "*", words[1] == "BYE" {
                    handle = nil
                    throw .connectionLost(server: endpoint.serverName, detail: response.text)
                }
            }
            if newMail { break waiting }
            try receiveIfReadable(waitMilliseconds: 500)
        }
        try sendAll(Array("DONE\r\n".utf8))
        _ = try awaitCompletion(tag: tag, command: "IDLE")
        return newMail
    }

    /// Appends a message (used by tests, the demo and quarantine re-delivery); uses a synchronising literal.
    public func append(_ folder: String, message: [UInt8], flags: [String] = []) throws(TransportError) {
        let name = try Self.quoted(ModifiedUTF7.encode(folder))
        let flagList = flags.isEmpty ? "" : " (\(flags.joined(separator: " ")))"
        try settleSentAhead()  // the literal's continuation must not meet an unread answer
        try settleCapabilities()
        tagCounter += 1
        let tag = "tg\(tagCounter)"
        try sendAll(Array("\(tag) APPEND \(name)\(flagList) {\(message.count)}\r\n".utf8))
        while true {
            let response = try readResponse()
            if response.kind == .continuation { break }
            if case .tagged(tag) = response.kind {
                throw .commandFailed(server: endpoint.serverName, command: "APPEND", response: response.text)
            }
        }
        try sendAll(message + Array("\r\n".utf8))
        _ = try awaitCompletion(tag: tag, command: "APPEND")
    }

    /// Adds flags or keywords to messages (`UID STORE … +FLAGS.SILENT`).
    public func addFlags(_ set: String, flags: [String]) throws(TransportError) {
        _ = try command("UID STORE \(set) +FLAGS.SILENT (\(flags.joined(separator: " ")))")
    }

    /// Moves messages, with `UID MOVE` when offered, else COPY + `\Deleted` + `UID EXPUNGE`.
    public func move(_ set: String, to folder: String) throws(TransportError) {
        let name = try Self.quoted(ModifiedUTF7.encode(folder))
        if capabilities.contains("MOVE") {
            _ = try command("UID MOVE \(set) \(name)")
        } else {
            _ = try command("UID COPY \(set) \(name)")
            _ = try command("UID STORE \(set) +FLAGS.SILENT (\\Deleted)")
            _ = try command("UID EXPUNGE \(set)")
        }
    }

    /// Sends one tagged command and collects every response up to its completion; NO/BAD throws.
    @discardableResult
    public func command(_ text: String) throws(TransportError) -> [IMAPResponse] {
        return try pipeline([text])[0].get()
    }

    /// Sends several commands at once and collects each one's responses in order: one round trip for all of them.
    /// A command the server refuses (NO/BAD) gives its failure in its place; a lost connection throws.
    public func pipeline(_ texts: [String]) throws(TransportError) -> [Result<[IMAPResponse], TransportError>] {
        do {
            return try pipelineOnce(texts)
        } catch {
            // The first command after `connect(awaitingLogin: false)`, refused with the login: again over libcurl's.
            guard retryWithLibcurlLogin else { throw error }
            try openWithLibcurlLogin()
            return try pipelineOnce(texts)
        }
    }

    private func pipelineOnce(_ texts: [String]) throws(TransportError) -> [Result<[IMAPResponse], TransportError>] {
        try settleSentAhead()
        var tags: [String] = []
        for text in texts { tags.append(try send(text)) }
        try settleCapabilities()
        var results: [Result<[IMAPResponse], TransportError>] = []
        for (text, tag) in zip(texts, tags) {
            let verb = text.split(separator: " ").prefix(2).joined(separator: " ")
            do {
                results.append(.success(try awaitCompletion(tag: tag, command: verb)))
            } catch {
                guard case .commandFailed = error else { throw error }
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Writes one tagged command; its answer is read by `awaitCompletion(tag:command:)`.
    private func send(_ text: String) throws(TransportError) -> String {
        guard !text.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
            throw .invalidArgument("IMAP command contains CR, LF or NUL")
        }
        tagCounter += 1
        let tag = "tg\(tagCounter)"
        try sendAll(Array("\(tag) \(text)\r\n".utf8))
        return tag
    }

    private func awaitCompletion(tag: String, command: String) throws(TransportError) -> [IMAPResponse] {
        var responses: [IMAPResponse] = []
        while true {
            let response = try readResponse()
            if case .tagged(let responseTag) = response.kind, responseTag == tag {
                guard response.status == "OK" else {
                    throw .commandFailed(server: endpoint.serverName, command: command, response: response.text)
                }
                responses.append(response)
                return responses
            }
            if response.kind == .untagged, response.startsWith("* BYE") {
                if command.uppercased() != "LOGOUT" {
                    handle = nil
                    throw .connectionLost(server: endpoint.serverName, detail: response.text)
                }
            }
            responses.append(response)
        }
    }

    /// Quotes a string for IMAP; CR, LF and NUL cannot be quoted and are refused.
    static func quoted(_ value: String) throws(TransportError) -> String {
        guard !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
            throw .invalidArgument("\"\(value)\" contains CR, LF or NUL")
        }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }

    // MARK: - Raw I/O over libcurl

    private func nextBuffered() throws(TransportError) -> IMAPResponse? {
        do {
            return try reader.next()
        } catch {
            handle = nil
            throw .protocolViolation(server: endpoint.serverName, detail: error.description)
        }
    }

    /// Reads whatever arrives within `waitMilliseconds`; returns quietly when nothing does.
    private func receiveIfReadable(waitMilliseconds: Int32) throws(TransportError) {
        guard let curl = handle else {
            throw .connectionLost(server: endpoint.serverName, detail: "not connected")
        }
        if try receiveOnce(curl) { return }
        var descriptor = pollfd(fd: curl.activeSocket(), events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, waitMilliseconds) > 0 else { return }
        _ = try receiveOnce(curl)
    }

    private func readResponse(timeout: Duration? = nil) throws(TransportError) -> IMAPResponse {
        while true {
            do {
                if let response = try reader.next() { return response }
            } catch {
                handle = nil
                throw .protocolViolation(server: endpoint.serverName, detail: error.description)
            }
            try receiveMore(timeout: timeout ?? endpoint.ioTimeout)
        }
    }

    private func receiveMore(timeout: Duration) throws(TransportError) {
        guard let curl = handle else {
            throw .connectionLost(server: endpoint.serverName, detail: "not connected")
        }
        let deadline = ContinuousClock.now + timeout
        while try !receiveOnce(curl) {
            try waitForSocket(curl, events: Int16(POLLIN), deadline: deadline, timeout: timeout)
        }
    }

    /// One `curl_easy_recv` into the reader: true when bytes arrived, false when none are ready yet; a closed or
    /// failed connection throws and drops the handle.
    private func receiveOnce(_ curl: CurlHandle) throws(TransportError) -> Bool {
        var received = 0
        let code = receiveBuffer.withUnsafeMutableBytes { buffer in
            curl_easy_recv(curl.raw, buffer.baseAddress, buffer.count, &received)
        }
        if code == CURLE_AGAIN { return false }
        guard code == CURLE_OK, received > 0 else {
            handle = nil
            throw .connectionLost(
                server: endpoint.serverName,
                detail: code == CURLE_OK ? "the server closed the connection" : curl.message(for: code))
        }
        reader.append(receiveBuffer[0..<received])
        return true
    }

    private func sendAll(_ bytes: [UInt8]) throws(TransportError) {
        guard let curl = handle else {
            throw .connectionLost(server: endpoint.serverName, detail: "not connected")
        }
        let deadline = ContinuousClock.now + endpoint.ioTimeout
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let code = bytes.withUnsafeBytes { buffer in
                curl_easy_send(curl.raw, buffer.baseAddress! + offset, buffer.count - offset, &sent)
            }
            if code == CURLE_OK {
                offset += sent
                continue
            }
            guard code == CURLE_AGAIN else {
                handle = nil
                throw .connectionLost(server: endpoint.serverName, detail: curl.message(for: code))
            }
            try waitForSocket(curl, events: Int16(POLLOUT), deadline: deadline, timeout: endpoint.ioTimeout)
        }
    }

    private func waitForSocket(
        _ curl: CurlHandle, events: Int16, deadline: ContinuousClock.Instant, timeout: Duration
    ) throws(TransportError) {
        let socket = curl.activeSocket()
        guard socket >= 0 else {
            handle = nil
            throw .connectionLost(server: endpoint.serverName, detail: "no active socket")
        }
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else {
            handle = nil
            throw .connectionLost(server: endpoint.serverName, detail: "no answer within \(timeout)")
        }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        _ = poll(&descriptor, 1, Int32(min(remaining.milliseconds, 1000)))
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// The UIDs of an IMAP sequence set such as `1:5,7,9:12` (`*` counts as the largest UID), for telling which fetch a
/// mail of pipelined fetches belongs to.
struct UIDRanges {
    private var ranges: [ClosedRange<UInt32>] = []

    init(_ set: String) {
        for part in set.split(separator: ",") {
            let ends = part.split(separator: ":", maxSplits: 1).map { $0 == "*" ? UInt32.max : UInt32($0) }
            guard let first = ends.first ?? nil else { continue }
            let last = ends.count == 2 ? (ends[1] ?? first) : first
            ranges.append(min(first, last)...max(first, last))
        }
    }

    func contains(_ uid: UInt32) -> Bool { ranges.contains { $0.contains(uid) } }
}

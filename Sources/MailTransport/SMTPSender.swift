import CCurl
import Foundation

/// How to reach the outgoing mail server. STARTTLS is required unless the URL is `smtps://` or TLS is explicitly off.
public struct SMTPEndpoint: Sendable {
    public var url: URL
    public var username: String?
    public var password: String?
    public var oauthToken: String?
    public var security: IMAPEndpoint.Security
    public var caFile: String?
    public var verifyPeer: Bool
    public var heloName: String
    public var connectTimeout: Duration

    public init(
        url: URL, username: String? = nil, password: String? = nil, oauthToken: String? = nil,
        security: IMAPEndpoint.Security? = nil, caFile: String? = nil, verifyPeer: Bool = true,
        heloName: String = "localhost", connectTimeout: Duration = .seconds(15)
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.oauthToken = oauthToken
        self.security = security ?? (url.scheme?.lowercased() == "smtps" ? .implicit : .starttls)
        self.caFile = caFile
        self.verifyPeer = verifyPeer
        self.heloName = heloName
        self.connectTimeout = connectTimeout
    }

    public var serverName: String {
        "\(url.scheme ?? "smtp")://\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")"
    }
}

/// The server's answer for one recipient of one message.
public struct RecipientResult: Sendable, Equatable {
    public var address: String
    public var code: Int
    public var text: String
    public var accepted: Bool { (200..<300).contains(code) }

    public init(address: String, code: Int, text: String) {
        self.address = address
        self.code = code
        self.text = text
    }
    public var permanent: Bool { code >= 500 }
}

/// What happened to one message: delivered to the accepted recipients, the others listed with their replies.
public struct SMTPDelivery: Sendable, Equatable {
    public var recipients: [RecipientResult]
    public var finalCode: Int
    public var accepted: [String] { recipients.filter(\.accepted).map(\.address) }
    public var refused: [RecipientResult] { recipients.filter { !$0.accepted } }
}

/// Why a message was not accepted at all, split into "retry later" and "will never work".
public struct SMTPFailure: Error, Sendable, CustomStringConvertible {
    public var server: String
    public var code: Int
    public var detail: String
    public var recipients: [RecipientResult]
    public var permanent: Bool
    public var transport: TransportError?

    public var description: String {
        if let transport { return transport.description }
        return "The mail server \(server) did not accept the message (\(code)): \(detail)."
    }
}

/// Sends prebuilt messages over one reused libcurl SMTP connection; per-recipient replies are read from the header
/// callback, so one refused recipient does not fail the others (`CURLOPT_MAIL_RCPT_ALLLOWFAILS`).
public actor SMTPSender {
    private let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    public let endpoint: SMTPEndpoint
    private var handle: CurlHandle?

    public init(endpoint: SMTPEndpoint) {
        self.endpoint = endpoint
        self.executor = QueueExecutor(label: "ticketgate.smtp")
    }

    /// Sends one message. `mailFrom` "" gives the null reverse path `<>` (RFC 3834 automatic replies).
    public func send(_ message: [UInt8], mailFrom: String, recipients: [String]) throws(SMTPFailure) -> SMTPDelivery {
        for address in recipients + [mailFrom]
        where address.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 || $0 == UInt8(ascii: ">") }) {
            throw SMTPFailure(
                server: endpoint.serverName, code: 0, detail: "invalid address \(address)", recipients: [],
                permanent: true, transport: .invalidArgument("address \"\(address)\" contains forbidden characters"))
        }
        let curl = handle ?? makeHandle()
        handle = curl
        let context = TransferContext(body: message)
        let unmanaged = Unmanaged.passRetained(context)
        defer {
            unmanaged.release()
            curl.clearLists()
        }
        curl.set(CURLOPT_MAIL_FROM, mailFrom.isEmpty ? "<>" : "<\(mailFrom)>")
        curl.set(CURLOPT_MAIL_RCPT, list: recipients.map { "<\($0)>" })
        tg_setopt_rcpt_allowfails(curl.raw, 1)
        curl.set(CURLOPT_UPLOAD, 1)
        curl.set(CURLOPT_INFILESIZE, message.count)
        tg_setopt_pointer(curl.raw, CURLOPT_READDATA, unmanaged.toOpaque())
        tg_setopt_pointer(curl.raw, CURLOPT_HEADERDATA, unmanaged.toOpaque())
        tg_setopt_data_callback(curl.raw, CURLOPT_READFUNCTION, smtpReadCallback)
        tg_setopt_data_callback(curl.raw, CURLOPT_HEADERFUNCTION, smtpHeaderCallback)
        let code = curl.perform()
        let responseCode = curl.responseCode()
        let perRecipient = Self.recipientResults(lines: context.responses, recipients: recipients)
        if code == CURLE_OK {
            return SMTPDelivery(recipients: perRecipient, finalCode: responseCode)
        }
        let message = curl.message(for: code)
        let lastReply = context.responses.last.map { "\($0.code) \($0.text)" } ?? message
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT:
            handle = nil
            throw SMTPFailure(
                server: endpoint.serverName, code: 0, detail: message, recipients: [], permanent: false,
                transport: .unreachable(server: endpoint.serverName, detail: message))
        case CURLE_LOGIN_DENIED:
            handle = nil
            throw SMTPFailure(
                server: endpoint.serverName, code: responseCode, detail: message, recipients: [], permanent: false,
                transport: .authenticationFailed(
                    server: endpoint.serverName, username: endpoint.username ?? "", detail: message))
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_USE_SSL_FAILED:
            handle = nil
            throw SMTPFailure(
                server: endpoint.serverName, code: 0, detail: message, recipients: [], permanent: false,
                transport: .tlsFailed(server: endpoint.serverName, detail: message))
        default:
            // Anything that is not a clear 5xx leaves the connection state unknown: start afresh next time.
            if !(500..<600).contains(responseCode) { handle = nil }
            let permanent = (500..<600).contains(responseCode)
            throw SMTPFailure(
                server: endpoint.serverName, code: responseCode, detail: lastReply, recipients: perRecipient,
                permanent: permanent, transport: nil)
        }
    }

    /// Releases the connection; the next send reconnects.
    public func close() {
        handle = nil
    }

    private func makeHandle() -> CurlHandle {
        let curl = CurlHandle()
        var components = URLComponents(url: endpoint.url, resolvingAgainstBaseURL: false)
        components?.path = "/\(endpoint.heloName)"
        curl.set(CURLOPT_URL, components?.string ?? endpoint.url.absoluteString)
        curl.set(CURLOPT_CONNECTTIMEOUT_MS, Int(endpoint.connectTimeout.milliseconds))
        curl.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        curl.set(CURLOPT_LOW_SPEED_TIME, 60)
        if let username = endpoint.username {
            curl.set(CURLOPT_USERNAME, username)
            if let token = endpoint.oauthToken {
                curl.set(CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2")
                curl.set(CURLOPT_XOAUTH2_BEARER, token)
            } else {
                curl.set(CURLOPT_PASSWORD, endpoint.password ?? "")
            }
            curl.set(CURLOPT_SASL_IR, 1)
        }
        if endpoint.security == .starttls { curl.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        if let caFile = endpoint.caFile { curl.set(CURLOPT_CAINFO, caFile) }
        curl.set(CURLOPT_SSL_VERIFYPEER, endpoint.verifyPeer ? 1 : 0)
        curl.set(CURLOPT_SSL_VERIFYHOST, endpoint.verifyPeer ? 2 : 0)
        return curl
    }

    /// The replies to RCPT TO are the final lines just before the 354 that opened DATA (or the last ones when DATA
    /// never started because every recipient was refused).
    static func recipientResults(lines: [SMTPReply], recipients: [String]) -> [RecipientResult] {
        guard !recipients.isEmpty else { return [] }
        let end = lines.lastIndex(where: { $0.code == 354 }) ?? lines.count
        let start = max(0, end - recipients.count)
        let replies = Array(lines[start..<end])
        return recipients.enumerated().map { index, address in
            let offset = index - (recipients.count - replies.count)
            guard offset >= 0, offset < replies.count else {
                return RecipientResult(address: address, code: 0, text: "no reply seen")
            }
            return RecipientResult(address: address, code: replies[offset].code, text: replies[offset].text)
        }
    }
}

/// One final server reply line (`250 OK`); continuation lines (`250-…`) are skipped.
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var text: String
}

private final class TransferContext {
    let body: [UInt8]
    var offset = 0
    var responses: [SMTPReply] = []

    init(body: [UInt8]) {
        self.body = body
    }
}

private let smtpReadCallback: tg_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    let room = size * count
    let remaining = context.body.count - context.offset
    let n = min(room, remaining)
    guard n > 0 else { return 0 }
    context.body.withUnsafeBytes { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + context.offset, byteCount: n)
    }
    context.offset += n
    return n
}

private let smtpHeaderCallback: tg_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let buffer, let userdata else { return length }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let scalars = Array(line.utf8)
    if scalars.count >= 3, let code = Int(String(line.prefix(3))), scalars.count == 3 || scalars[3] == 32 {
        context.responses.append(SMTPReply(code: code, text: String(line.dropFirst(4))))
    }
    return length
}

import CCurl
import Foundation

/// The few HTTP requests Ticketgate makes (OAuth 2 token refresh), over the libcurl it already links; blocking, so it
/// runs on its own executor like the mail connections.
public actor HTTPClient {
    private let executor = QueueExecutor(label: "ticketgate.http")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init() {}

    /// POSTs `application/x-www-form-urlencoded` fields; returns the status code and body.
    public func postForm(
        _ url: URL, fields: [(String, String)], caFile: String? = nil, timeout: Duration = .seconds(30)
    )
        throws(TransportError) -> (status: Int, body: [UInt8])
    {
        let curl = CurlHandle()
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        curl.set(CURLOPT_URL, url.absoluteString)
        curl.set(CURLOPT_COPYPOSTFIELDS, body)
        curl.set(CURLOPT_TIMEOUT_MS, Int(timeout.milliseconds))
        curl.set(CURLOPT_CONNECTTIMEOUT_MS, 10_000)
        if let caFile { curl.set(CURLOPT_CAINFO, caFile) }
        curl.set(CURLOPT_HTTPHEADER, list: ["Accept: application/json"])
        let sink = ResponseSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        tg_setopt_pointer(curl.raw, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        tg_setopt_data_callback(curl.raw, CURLOPT_WRITEFUNCTION, httpWriteCallback)
        let code = curl.perform()
        let server = "\(url.scheme ?? "http")://\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")"
        guard code == CURLE_OK else {
            if code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_OPERATION_TIMEDOUT {
                throw .unreachable(server: server, detail: curl.message(for: code))
            }
            throw .connectionLost(server: server, detail: curl.message(for: code))
        }
        return (curl.responseCode(), sink.bytes)
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

private final class ResponseSink {
    var bytes: [UInt8] = []
}

private let httpWriteCallback: tg_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let buffer, let userdata else { return length }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    guard sink.bytes.count + length <= 1 << 20 else { return 0 }  // a token response is small
    sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

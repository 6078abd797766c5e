import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Owns one libcurl easy handle; confined to the actor that created it because libcurl handles are not thread-safe.
final class CurlHandle {
    let raw: UnsafeMutableRawPointer
    private var errorBuffer: UnsafeMutablePointer<CChar>
    private var lists: [UnsafeMutablePointer<curl_slist>] = []

    init() {
        CurlGlobal.ensureInitialized()
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        raw = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        tg_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errorBuffer)
        set(CURLOPT_NOSIGNAL, 1)
    }

    deinit {
        curl_easy_cleanup(raw)
        for list in lists { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: Int) -> CURLcode {
        tg_setopt_long(raw, option, value)
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: String?) -> CURLcode {
        guard let value else { return tg_setopt_pointer(raw, option, nil) }
        return value.withCString { tg_setopt_string(raw, option, $0) }  // libcurl copies strings
    }

    /// Sets a string list option; the list lives until the handle is cleaned up or replaced by `clearLists`.
    func set(_ option: CURLoption, list values: [String]) {
        var list: UnsafeMutablePointer<curl_slist>?
        for value in values { list = curl_slist_append(list, value) }
        tg_setopt_slist(raw, option, list)
        if let list { lists.append(list) }
    }

    func clearLists() {
        for list in lists { curl_slist_free_all(list) }
        lists.removeAll()
    }

    func perform() -> CURLcode {
        errorBuffer[0] = 0
        return curl_easy_perform(raw)
    }

    /// The error buffer if libcurl filled it, else the generic text for the code.
    func message(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    func responseCode() -> Int {
        var code = 0
        tg_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    func activeSocket() -> Int32 {
        var socket = curl_socket_t(-1)
        tg_getinfo_socket(raw, &socket)
        return Int32(socket)
    }
}

@available(*, unavailable)
extension CurlHandle: Sendable {}

/// `curl_global_init` must run once before any handle exists; SIGPIPE must not kill the process on a dropped socket.
enum CurlGlobal {
    private static let once: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        signal(SIGPIPE, SIG_IGN)
    }()

    static func ensureInitialized() {
        _ = once
    }
}

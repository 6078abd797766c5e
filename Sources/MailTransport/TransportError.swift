/// What went wrong talking to a mail server, phrased so an operator knows what to fix; `isTemporary` separates
/// "try again later" from "the configuration is wrong".
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server could not be reached (DNS, refused, timeout).
    case unreachable(server: String, detail: String)
    /// The server refused the credentials.
    case authenticationFailed(server: String, username: String, detail: String)
    /// TLS could not be established or the certificate was not trusted.
    case tlsFailed(server: String, detail: String)
    /// The server answered something we cannot work with.
    case protocolViolation(server: String, detail: String)
    /// A command was refused with NO or BAD.
    case commandFailed(server: String, command: String, response: String)
    /// The connection dropped or stalled mid-conversation.
    case connectionLost(server: String, detail: String)
    /// A value we were asked to send cannot be sent safely (CR, LF or NUL in a quoted string, for instance).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .unreachable(let server, let detail):
            return "Cannot reach the mail server \(server): \(detail). Check the host and port in the URL."
        case .authenticationFailed(let server, let username, let detail):
            return
                "The mail server \(server) refused the login of user \"\(username)\" (\(detail)). Check the username and password."
        case .tlsFailed(let server, let detail):
            return "TLS with \(server) failed: \(detail). Check the certificate, the CA file or the tls setting."
        case .protocolViolation(let server, let detail):
            return "The mail server \(server) answered unexpectedly: \(detail)."
        case .commandFailed(let server, let command, let response):
            return "The mail server \(server) refused \(command): \(response)."
        case .connectionLost(let server, let detail):
            return "The connection to \(server) was lost: \(detail)."
        case .invalidArgument(let detail):
            return "Invalid argument: \(detail)."
        }
    }

    /// True when retrying later may succeed without any change to the configuration.
    public var isTemporary: Bool {
        switch self {
        case .unreachable, .connectionLost: return true
        case .protocolViolation, .commandFailed: return true
        case .authenticationFailed, .tlsFailed, .invalidArgument: return false
        }
    }
}

import Foundation
import Testing

@testable import Gateway

@Suite("Configuration")
struct ConfigurationTests {
    let valid = """
        instance: { name: "IT Service Desk", domain: example.test, secret: "0123456789abcdef" }
        store: { sqlite: ./data/ticketgate.sqlite }
        mailboxes:
          - name: support
            address: support@example.test
            imap: { url: "imap://127.0.0.1:1143", username: support, password: secret, folder: INBOX }
        smtp: { url: "smtp://127.0.0.1:1025" }
        agents:
          - { address: anna@example.test, name: Anna }
        templates: ./templates
        """

    @Test("the documented example shape decodes")
    func decodes() throws {
        let configuration = try Configuration.parse(yaml: valid)
        #expect(configuration.mailboxes.first?.imap.password?.value == "secret")
        #expect(configuration.agent(for: "ANNA@example.test")?.name == "Anna")
        #expect(configuration.ownAddresses == ["support@example.test"])
    }

    @Test("the shipped example configuration is valid")
    func example() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../config/ticketgate.example.yaml"
        ).standardizedFileURL.path
        setenv("TICKETGATE_IMAP_PASSWORD", "from-env", 1)
        let configuration = try Configuration.load(path: path)
        #expect(!configuration.mailboxes.isEmpty)
    }

    @Test(
        "errors name the key path and what to fix",
        arguments: [
            (
                "password: secret", "pasword: secret",
                "mailboxes[0].imap.pasword is not a known setting (did you mean password?)"
            ),
            (
                "address: support@example.test", "address: support",
                "mailboxes[0].address \"support\" is not a mail address"
            ),
            ("imap://127.0.0.1:1143", "http://127.0.0.1:1143", "mailboxes[0].imap.url must look like imap://host:port"),
            ("smtp: { url: \"smtp://127.0.0.1:1025\" }", "smtp: { }", "smtp.url is required but missing"),
            ("secret: \"0123456789abcdef\"", "secret: \"short\"", "instance.secret must be at least 8 characters long"),
            ("templates: ./templates", "templates: [a]", "templates must be a single value"),
        ])
    func errors(find: String, replace: String, expected: String) {
        let yaml = valid.replacingOccurrences(of: find, with: replace)
        do {
            _ = try Configuration.parse(yaml: yaml, path: "t.yaml")
            Issue.record("accepted a bad configuration")
        } catch {
            #expect(error.description.hasPrefix("Configuration error in t.yaml: \(expected)"), "\(error.description)")
        }
    }

    @Test("secrets come from the environment or a file and never print")
    func secrets() throws {
        setenv("TG_TEST_SECRET_PW", "pw-from-env", 1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tg-secret-\(UUID().uuidString)")
        try "key-from-file-123\n".write(to: file, atomically: true, encoding: .utf8)
        let yaml = valid.replacingOccurrences(of: "password: secret", with: "password: { env: TG_TEST_SECRET_PW }")
            .replacingOccurrences(of: "secret: \"0123456789abcdef\"", with: "secret: { file: \"\(file.path)\" }")
        let configuration = try Configuration.parse(yaml: yaml)
        #expect(configuration.mailboxes[0].imap.password?.value == "pw-from-env")
        #expect(configuration.instance.secret.value == "key-from-file-123")
        #expect("\(configuration.instance.secret)" == "<secret>")
        let missing = valid.replacingOccurrences(
            of: "password: secret", with: "password: { env: TG_TEST_NOT_SET_ANYWHERE }")
        #expect(throws: ConfigurationError.self) { try Configuration.parse(yaml: missing) }
    }
}

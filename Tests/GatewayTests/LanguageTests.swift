import Gateway
import Testing

/// Requester language: recorded > Content-Language > Accept-Language > detection > instance default.
@Suite struct LanguageTests {
    struct ChooseCase: Sendable, CustomTestStringConvertible {
        var recorded: String?
        var contentLanguage: String?
        var acceptLanguage: String?
        var text: String
        var expected: String
        var testDescription: String {
            "\(expected) ← \(recorded ?? "-") \(contentLanguage ?? "-") \(acceptLanguage ?? "-")"
        }
    }

    static let available: Set<String> = ["en", "de"]

    static let chooseCases: [ChooseCase] = [
        ChooseCase(
            recorded: "de", contentLanguage: "en", acceptLanguage: "en", text: "Hello, the VPN is down.", expected: "de"
        ),
        ChooseCase(recorded: "fr", contentLanguage: nil, acceptLanguage: nil, text: "", expected: "en"),
        ChooseCase(recorded: "fr", contentLanguage: "de-AT", acceptLanguage: nil, text: "", expected: "de"),
        ChooseCase(recorded: nil, contentLanguage: "fr, de", acceptLanguage: "en", text: "", expected: "de"),
        ChooseCase(
            recorded: nil, contentLanguage: nil, acceptLanguage: "fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7", text: "",
            expected: "de"),
        ChooseCase(recorded: nil, contentLanguage: nil, acceptLanguage: "en;q=0.5, de-DE", text: "", expected: "de"),
        ChooseCase(recorded: nil, contentLanguage: nil, acceptLanguage: "de;q=0, *", text: "", expected: "en"),
        ChooseCase(
            recorded: nil, contentLanguage: nil, acceptLanguage: nil, text: "Der Drucker geht nicht mehr.",
            expected: "de"),
        ChooseCase(
            recorded: nil, contentLanguage: nil, acceptLanguage: nil,
            text: "Bonjour, mon imprimante ne fonctionne pas.", expected: "en"),
        ChooseCase(recorded: nil, contentLanguage: nil, acceptLanguage: nil, text: "xyz", expected: "en"),
        ChooseCase(recorded: "DE_ch", contentLanguage: nil, acceptLanguage: nil, text: "", expected: "de"),
    ]

    @Test(arguments: chooseCases)
    func choose(_ c: ChooseCase) {
        let chosen = LanguageChooser.choose(
            recorded: c.recorded, contentLanguage: c.contentLanguage, acceptLanguage: c.acceptLanguage, text: c.text,
            available: Self.available, fallback: "en")
        #expect(chosen == c.expected)
    }

    @Test func frenchCountsWhenAvailable() {
        let chosen = LanguageChooser.choose(
            recorded: nil, contentLanguage: nil, acceptLanguage: nil, text: "Bonjour, je n'arrive pas à imprimer.",
            available: ["en", "de", "fr"], fallback: "en")
        #expect(chosen == "fr")
    }

    static let detectCases: [(String, String?)] = [
        ("Hallo, seit heute morgen funktioniert mein VPN nicht mehr.", "de"),
        ("Drucker geht nicht", "de"),
        ("Bitte um Rückruf", "de"),
        ("Hi, my laptop won't start since the update. Can you help?", "en"),
        ("The printer on the second floor is not working.", "en"),
        ("Bonjour, l'imprimante du deuxième étage ne fonctionne plus depuis ce matin.", "fr"),
        ("Merci beaucoup, c'est réglé.", "fr"),
        ("VPN", nil),
        ("Printer broken", nil),
        ("OK", nil),
        ("", nil),
        ("Danke! Thanks!", nil),
        ("> Der alte Text war deutsch\n> und zitiert\nThanks, that worked for me.", "en"),
    ]

    @Test(arguments: detectCases)
    func detect(text: String, expected: String?) {
        #expect(LanguageChooser.detect(text) == expected)
    }

    @Test func acceptLanguageOrder() {
        #expect(LanguageChooser.acceptLanguage("da, en-GB;q=0.8, en;q=0.7") == ["da", "en-GB", "en"])
        #expect(LanguageChooser.acceptLanguage("en;q=0.3, de;q=0.3, fr") == ["fr", "en", "de"])
        #expect(LanguageChooser.acceptLanguage("en;q=0, *;q=0.1") == [])
    }

    @Test func matchPrefersTheLongestTag() {
        #expect(LanguageChooser.match("pt-BR", available: ["pt", "pt-br"]) == "pt-br")
        #expect(LanguageChooser.match("pt-PT", available: ["pt", "pt-br"]) == "pt")
        #expect(LanguageChooser.match("es", available: ["en", "de"]) == nil)
    }
}

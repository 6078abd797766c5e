import Foundation
import Testing

@testable import Gateway

@Suite("Rendered subjects are one line")
struct TemplateSubjectTests {
    @Test(
        "line breaks become spaces and outer blanks go, whichever path is taken",
        arguments: [
            ("[INC-000001] Printer problem #12", "[INC-000001] Printer problem #12"),
            ("  [INC-000001] Printer\n", "[INC-000001] Printer"),
            ("Printer\r\nproblem", "Printer problem"),
            ("Drucker\u{2028}Störung ", "Drucker Störung"),
            ("\tTabbed", "Tabbed"),
            ("Straße kaputt", "Straße kaputt"),
            ("", ""),
        ])
    func oneLine(rendered: String, expected: String) {
        #expect(TemplateSet.oneLine(rendered) == expected)
    }
}

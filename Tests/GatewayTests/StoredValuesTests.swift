import Foundation
import ServiceDesk
import Testing

@testable import Gateway

/// A view that builds its queued values directly must store exactly what its Mustache context would have stored,
/// labels included, in every locale.
@Suite("Values stored with a queued mail")
struct StoredValuesTests {
    static let views: [AcknowledgementView] =
        [AcknowledgementView.sample] + AcknowledgementView.variants.values.sorted { $0.kind < $1.kind } + [
            AcknowledgementView(
                ticketID: "REQ-000007", subject: "Zugang \"VPN\"", priority: "P2", kind: "service_request",
                requesterName: nil, instanceName: "IT", ticketRef: "[TG:REQ-000007:0a1b2c3d]"),
            AcknowledgementView(
                ticketID: "INC-000001", subject: "", priority: "P3", kind: "incident", requesterName: "",
                instanceName: "IT", ticketRef: "[TG:INC-000001:0a1b2c3d]"),
            AcknowledgementView(
                ticketID: "CHG-000002", subject: "Firewall", priority: "P4", kind: "change",
                requesterName: "Jo", instanceName: "IT", ticketRef: "[TG:CHG-000002:0a1b2c3d]"),
        ]

    @Test("an acknowledgement's direct values equal those from its Mustache context", arguments: views)
    func acknowledgement(view: AcknowledgementView) throws {
        let templates = try TemplateSet(directory: TemplatePaths.templates)
        for locale in templates.locales.sorted() {
            let direct = try #require(view.storedValues)
            #expect(!direct.isEmpty)
            #expect(
                templates.storedValues(of: view, locale: locale)
                    == DeferredMail.values(templates.values(of: view, locale: locale)), "\(locale)")
        }
    }
}

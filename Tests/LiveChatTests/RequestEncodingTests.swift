import Foundation
import XCTest

@testable import LiveChat

final class RequestEncodingTests: XCTestCase {
    /// The body the client sends for a create.
    private func jsonObject(_ request: CreateTicketRequest) throws -> NSDictionary {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(request)) as! NSDictionary
    }

    func testCreateRequestEncodesTheNestedShape() throws {
        let request = CreateTicketRequest(
            message: "My shoes are broken", requesterEmail: "mary@example.com", requesterName: "Mary",
            subject: "Shoes", sourceType: "chat-window", sourceURL: "https://shop.example/help",
            assigneeId: "jane@example.com", groups: [0, 2])
        XCTAssertEqual(try jsonObject(request), [
            "message": "My shoes are broken",
            "requester": ["mail": "mary@example.com", "name": "Mary"],
            "subject": "Shoes",
            "source": ["type": "chat-window", "url": "https://shop.example/help"],
            "assignee": ["id": "jane@example.com"],
            "group": [0, 2],
        ] as NSDictionary)
    }

    func testCreateRequestOmitsAbsentFieldsSoTheServerAppliesDefaults() throws {
        let request = CreateTicketRequest(message: "Hi", requesterEmail: "mary@example.com")
        XCTAssertEqual(try jsonObject(request), ["message": "Hi", "requester": ["mail": "mary@example.com"]] as NSDictionary)
    }

    func testQueryEncodesEveryFilterWithTheSpecKeys() {
        let query = TicketQuery(
            dateFrom: "2015-02-01", dateTo: "2015-02-25", page: 2, assigned: true, order: "asc",
            status: "open", assignee: "jane@example.com", query: "broken shoes & socks",
            requesterMail: "mary+shop@example.com", group: 3, source: "chat-window", tag: "vip/gold",
            tagged: false)
        XCTAssertEqual(query.queryString, [
            "date_from=2015-02-01", "date_to=2015-02-25", "page=2", "assigned=1", "order=asc",
            "status=open", "assignee=jane%40example.com", "query=broken%20shoes%20%26%20socks",
            "requester%5Bmail%5D=mary%2Bshop%40example.com", "group=3", "source=chat-window",
            "tag=vip%2Fgold", "tagged=0",
        ].joined(separator: "&"))
    }

    func testBooleanFiltersEncodeAsZeroOrOne() {
        XCTAssertEqual(TicketQuery(assigned: false, tagged: true).queryString, "assigned=0&tagged=1")
    }

    func testEmptyQueryEncodesNothing() {
        XCTAssertEqual(TicketQuery().queryString, "")
        XCTAssertTrue(TicketQuery().parameters.isEmpty)
    }

    func testPercentEncodingKeepsOnlyUnreservedCharacters() {
        XCTAssertEqual(PercentEncoding.encode("AZaz09-._~"), "AZaz09-._~")
        XCTAssertEqual(PercentEncoding.encode("a/b?c#d é"), "a%2Fb%3Fc%23d%20%C3%A9")
    }
}

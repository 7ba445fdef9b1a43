import Foundation
import XCTest

@testable import LiveChat

final class RequestEncodingTests: XCTestCase {
    /// The body the client sends for a create.
    private func jsonObject(_ request: CreateTicketRequest) throws -> NSDictionary {
        try JSONSerialization.jsonObject(with: Data(request.json())) as! NSDictionary
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

    func testHandWrittenJSONIsByteForByteWhatJSONEncoderWrites() throws {
        let tricky = "quote \" backslash \\ slash / tab \t newline \n cr \r bell \u{07} bs \u{08} ff \u{0C} us \u{1F} del \u{7F} é ✓ 😀 \u{2028}"
        let requests = [
            CreateTicketRequest(message: "Hi", requesterEmail: "mary@example.com"),
            CreateTicketRequest(
                message: tricky, requesterEmail: "a/b@example.com", requesterName: tricky, subject: tricky,
                sourceType: "chat-window", sourceURL: "https://shop.example/help?a=1&b=2", assigneeId: "jane@example.com",
                groups: [0, 2, -3, 1_000_000]),
            CreateTicketRequest(message: "x", requesterEmail: "m@e.com", sourceURL: "https://only.url/", groups: []),
            CreateTicketRequest(message: "", requesterEmail: "", sourceType: "mail"),
        ]
        for request in requests {
            for escapingSlashes in [false, true] {
                let encoder = JSONEncoder()
                encoder.outputFormatting = escapingSlashes ? [.sortedKeys] : [.sortedKeys, .withoutEscapingSlashes]
                let expected = String(decoding: try encoder.encode(request), as: UTF8.self)
                XCTAssertEqual(String(decoding: request.json(escapingSlashes: escapingSlashes), as: UTF8.self), expected)
            }
        }
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

import Foundation
import XCTest

@testable import LiveChat

final class TicketDecodingTests: XCTestCase {
    private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    /// A minimal REST ticket with `overrides` merged in (a nil value removes the key).
    private func ticketJSON(_ overrides: [String: Any?] = [:]) throws -> String {
        var ticket: [String: Any] = [
            "id": "ABC12", "status": "open", "subject": "Hi",
            "requester": ["mail": "mary@example.com", "name": "Mary"],
            "groups": [0], "source": ["type": "lc2"], "opened": [["from": 1384554260]],
            "modified": 1384790802, "firstResponse": [:] as [String: Any], "tags": [] as [Any],
            "events": [] as [Any],
        ]
        for (key, value) in overrides { ticket[key] = value }
        return String(decoding: try JSONSerialization.data(withJSONObject: ticket), as: UTF8.self)
    }

    func testDocsListSampleDecodesEveryField() throws {
        let page = try decode(TicketPage.self, DocsSamples.ticketList)
        XCTAssertEqual(page.pages, 1)
        XCTAssertEqual(page.total, 15)
        XCTAssertEqual(page.tickets.count, 1)
        let ticket = try XCTUnwrap(page.tickets.first)
        XCTAssertEqual(ticket.id, "5FUED")
        XCTAssertEqual(ticket.status, "open")
        XCTAssertEqual(ticket.subject, "My new shoes are broken")
        XCTAssertEqual(ticket.requester, Requester(mail: "mary.brown@email.com", name: "Mary Brown"))
        XCTAssertEqual(ticket.assignee, Assignee(id: "jane.doe@mycompany.com", name: "Jane Doe"))
        XCTAssertEqual(ticket.groups, [0])
        XCTAssertEqual(ticket.source, TicketSource(type: "mail"))
        XCTAssertEqual(ticket.opened, [OpenedInterval(from: Date(timeIntervalSince1970: 1384554260))])
        XCTAssertEqual(ticket.modified, Date(timeIntervalSince1970: 1384790802))
        XCTAssertEqual(ticket.firstResponse, .object([:]))
        XCTAssertEqual(ticket.tags, ["sales", "support", "feedback"])
        XCTAssertEqual(ticket.events.map(\.type), ["message", "assignee_changed", "message"])
        guard case .message(let first) = ticket.events[0],
              case .assigneeChanged(let change) = ticket.events[1],
              case .message(let note) = ticket.events[2]
        else { return XCTFail("events decoded as \(ticket.events)") }
        XCTAssertEqual(first.author, EventAuthor(id: "mary.brown@email.com", name: "Mary Brown", type: "client"))
        XCTAssertFalse(first.isPrivate)
        XCTAssertTrue(first.message.hasPrefix("Hello,\n\nIt seems"))
        XCTAssertEqual(first.source, TicketSource(type: "mail"))
        XCTAssertEqual(change.to, Assignee(id: "jane.doe@mycompany.com", name: "Jane Doe"))
        XCTAssertEqual(change.date, Date(timeIntervalSince1970: 1384554270))
        XCTAssertTrue(note.isPrivate)
        XCTAssertEqual(note.author.type, "agent")
    }

    func testDocsSampleEncodesBackToTheSameFields() throws {
        let page = try decode(TicketPage.self, DocsSamples.ticketList)
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(page)) as! NSDictionary
        let original = try JSONSerialization.jsonObject(with: Data(DocsSamples.ticketList.utf8)) as! NSDictionary
        XCTAssertEqual(encoded, original)

        let ticket = try decode(Ticket.self, DocsSamples.ticket)
        let encodedTicket = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ticket)) as! NSDictionary
        let originalTicket = try JSONSerialization.jsonObject(with: Data(DocsSamples.ticket.utf8)) as! NSDictionary
        XCTAssertEqual(encodedTicket, originalTicket)
    }

    func testTimesDecodeFromUnixSecondsOrISO8601() throws {
        let expected = Date(timeIntervalSince1970: 1384554260)
        let encodings: [Any] = [
            1384554260, 1384554260.0, "1384554260", "2013-11-15T22:24:20Z", "2013-11-15T22:24:20.000Z",
            "2013-11-15T23:24:20+01:00", "2013-11-15T22:24:20",
        ]
        for encoding in encodings {
            let ticket = try decode(Ticket.self, try ticketJSON(["modified": encoding, "opened": [["from": encoding, "to": encoding]]]))
            XCTAssertEqual(ticket.modified, expected, "modified given as \(encoding)")
            XCTAssertEqual(ticket.opened, [OpenedInterval(from: expected, to: expected)], "opened given as \(encoding)")
        }
        let fractional = try decode(Ticket.self, try ticketJSON(["modified": 1384554260.75]))
        XCTAssertEqual(fractional.modified.timeIntervalSince1970, 1384554260.75, accuracy: 0.001)
        XCTAssertThrowsError(try decode(Ticket.self, try ticketJSON(["modified": "last tuesday"])))
        // A server's time beyond year 9999 is refused, not carried to a conversion that traps.
        for hostile: Any in [1e300, -1e300, "1e300", 9_223_372_036_854_775_807] {
            XCTAssertThrowsError(try decode(Ticket.self, try ticketJSON(["modified": hostile])), "\(hostile)")
        }
    }

    func testTimesEncodeAsWholeUnixSeconds() throws {
        let ticket = try decode(Ticket.self, try ticketJSON(["modified": "2013-11-15T22:24:20.750Z"]))
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ticket)) as! [String: Any]
        XCTAssertEqual(object["modified"] as? Int, 1384554260)
        XCTAssertEqual((object["opened"] as? [[String: Any]])?.first?["from"] as? Int, 1384554260)
    }

    func testGroupsDecodeFromIdsOrObjectsAndEncodeAsIds() throws {
        let plain = try decode(Ticket.self, try ticketJSON(["groups": [0, 2]]))
        XCTAssertEqual(plain.groups, [0, 2])
        let objects = try decode(Ticket.self, try ticketJSON(["groups": [["id": 0, "name": "All operators"], ["id": 2, "name": "Sales"]]]))
        XCTAssertEqual(objects.groups, [0, 2])
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(objects)) as! [String: Any]
        XCTAssertEqual(object["groups"] as? [Int], [0, 2])
        XCTAssertThrowsError(try decode(Ticket.self, try ticketJSON(["groups": [["name": "no id"]]])))
    }

    func testUnknownEventTypeIsKeptWithItsRawFields() throws {
        let rating: [String: Any] = [
            "type": "rating_changed", "date": 1384554300, "rate": "good",
            "author": ["id": "mary@example.com"], "score": 4.5, "extra": NSNull(), "flags": [true, false],
        ]
        let ticket = try decode(Ticket.self, try ticketJSON(["events": [rating]]))
        XCTAssertEqual(ticket.events.count, 1)
        guard case .other(let event) = ticket.events[0] else { return XCTFail("decoded as \(ticket.events[0])") }
        XCTAssertEqual(event.type, "rating_changed")
        XCTAssertEqual(event.date, Date(timeIntervalSince1970: 1384554300))
        XCTAssertEqual(event.fields["rate"], .string("good"))
        XCTAssertEqual(event.fields["score"], .double(4.5))
        XCTAssertEqual(event.fields["extra"], .null)
        XCTAssertEqual(event.fields["flags"], .array([.bool(true), .bool(false)]))
        XCTAssertEqual(event.fields["author"], .object(["id": .string("mary@example.com")]))

        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ticket)) as! [String: Any]
        XCTAssertEqual((encoded["events"] as! [NSDictionary]).first, rating as NSDictionary)
    }

    func testKnownEventWithMissingFieldsIsKeptRawInsteadOfFailing() throws {
        let broken: [String: Any] = ["type": "message", "date": 1384554300]  // no author, no message
        let ticket = try decode(Ticket.self, try ticketJSON(["events": [broken]]))
        guard case .other(let event) = ticket.events.first else { return XCTFail("decoded as \(ticket.events)") }
        XCTAssertEqual(event.type, "message")
    }

    func testUnknownFieldsAreIgnoredAndAbsentPartsAreEmpty() throws {
        let ticket = try decode(Ticket.self, try ticketJSON([
            "rate": "good", "brand_new": ["x": 1], "tags": nil, "events": nil, "groups": nil,
            "opened": nil, "firstResponse": nil,
        ]))
        XCTAssertEqual(ticket.tags, [])
        XCTAssertEqual(ticket.events, [])
        XCTAssertEqual(ticket.groups, [])
        XCTAssertEqual(ticket.opened, [])
        XCTAssertEqual(ticket.firstResponse, .object([:]))
    }

    func testUnassignedTicketHasNoAssigneeAndEncodesNone() throws {
        let ticket = try decode(Ticket.self, try ticketJSON())
        XCTAssertNil(ticket.assignee)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ticket)) as! [String: Any]
        XCTAssertNil(object["assignee"])
        XCTAssertNotNil(object["firstResponse"])
    }

    func testTicketConvertsToJSONValueWithTheAPIFieldNames() throws {
        let ticket = try decode(Ticket.self, DocsSamples.ticket)
        let value = try JSONValue(encoding: ticket).objectValue
        XCTAssertEqual(value?["id"], .string("5FUED"))
        XCTAssertEqual(value?["modified"], .int(1384790802))
        XCTAssertEqual(value?["events"]?.arrayValue?.first?.objectValue?["is_private"], .bool(false))
        XCTAssertEqual(value?["requester"]?.objectValue?["mail"], .string("mary.brown@email.com"))
    }

    func testTicketWithoutIdIsRejected() throws {
        XCTAssertThrowsError(try decode(Ticket.self, try ticketJSON(["id": nil])))
    }

    func testChatWindowSourceKeepsItsURL() throws {
        let ticket = try decode(Ticket.self, try ticketJSON(["source": ["type": "chat-window", "url": "https://shop.example/help"]]))
        XCTAssertEqual(ticket.source, TicketSource(type: "chat-window", url: "https://shop.example/help"))
    }
}

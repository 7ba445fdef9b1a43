import LiveChat
import XCTest
@testable import LiveChatSandbox

/// The hand-written JSON reader and writer against Foundation's, which they replace on hot paths.
final class EncodingTests: XCTestCase {
    func testTicketEncodingMatchesJSONEncoderOverTheSeed() throws {
        let tickets = Seeder(seed: 7, anchor: 1_700_000_000).tickets(count: 500)
        for ticket in tickets {
            XCTAssertEqual(String(decoding: ticket.encoded(), as: UTF8.self),
                           String(decoding: try ticket.referenceEncoding(), as: UTF8.self), ticket.id)
        }
    }

    func testTicketEncodingEscapesAsJSONEncoder() throws {
        var ticket = Seeder(seed: 1, anchor: 1_700_000_000).tickets(count: 2)[1]
        let tricky = "q\"b\\s/ü€😀\u{0}\u{1}\u{7}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}\u{2028}</script>"
        ticket.subject = tricky
        ticket.requester.name = tricky
        ticket.tags = [tricky, "", "a"]
        ticket.groups = [0, 12, 345]
        ticket.source = TicketSource(type: "chat-window", url: "https://x.example/a?b=c&d")
        ticket.opened = [OpenedSpan(from: 1, to: 2), OpenedSpan(from: 3)]
        ticket.assignee = Agent(id: "a@b.c", name: tricky)
        XCTAssertEqual(String(decoding: ticket.encoded(), as: UTF8.self),
                       String(decoding: try ticket.referenceEncoding(), as: UTF8.self))
        XCTAssertEqual(try Ticket.decode(ticket.encoded()), ticket)
    }

    func testJSONParserReadsWhatJSONDecoderReads() throws {
        let texts = [
            #"{"message": "Hi \"there\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00", "requester": {"mail": "m@x.io", "name": null}}"#,
            #"{"group": [0, 1, -2, 3.5, 1e3, 12345678901234567890, true, false, "7"], "a": {}, "b": [], "c": [[{}]]}"#,
            " \n\t{ \"k\" : \"ü€😀\" } \r\n",
            #"{"x": 0, "y": -0.0, "z": 1E-2, "w": 2e+2}"#,
        ]
        for text in texts {
            XCTAssertEqual(normalized(try JSONValue(parsing: Array(text.utf8))),
                           normalized(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))), text)
        }
    }

    /// Numbers as the handlers see them (`scalarText`): JSONDecoder reads `1e3` as an integer, the parser as a double.
    private func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .int, .double: return .string(value.scalarText!)
        case .array(let elements): return .array(elements.map(normalized))
        case .object(let members): return .object(members.mapValues(normalized))
        default: return value
        }
    }

    func testJSONParserRejectsWhatJSONDecoderRejects() {
        let texts = [
            #"{"message": "Hi", "#, "{", "}", "", "{'a': 1}", #"{"a": 01}"#, #"{"a": 1.}"#, #"{"a": .5}"#,
            #"{"a": -}"#, #"{"a": 1e}"#, #"{"a": tru}"#, #"{"a": nul}"#, #"{"a": [1,]}"#, #"{"a": 1,}"#,
            #"{"a" 1}"#, #"{a: 1}"#, "{\"a\": \"\u{1}\"}", #"{"a": "\x"}"#, #"{"a": "\u12"}"#,
            #"{"a": "\ud800"}"#, #"{"a": "\udc00"}"#, #"{"a": 1} x"#, #"{"a": NaN}"#, #"{"a": 1e999}"#,
        ]
        for text in texts {
            XCTAssertThrowsError(try JSONValue(parsing: Array(text.utf8)), text)
        }
        XCTAssertThrowsError(try JSONValue(parsing: [UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]))
        XCTAssertThrowsError(try JSONValue(parsing: Array(String(repeating: "[", count: 10_000).utf8)))
    }
}

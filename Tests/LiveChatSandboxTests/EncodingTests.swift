import LiveChat
import XCTest
@testable import LiveChatSandbox

/// Tickets as JSON and back, and the request bodies' JSON reader.
final class EncodingTests: XCTestCase {
    func testATicketWithTrickyTextEncodesAndReadsBackTheSame() throws {
        var ticket = Seeder(seed: 1, anchor: 1_700_000_000).tickets(count: 2)[1]
        let tricky = "q\"b\\s/ü€😀\u{0}\u{1}\u{7}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}\u{2028}</script>"
        ticket.subject = tricky
        ticket.requester.name = tricky
        ticket.tags = [tricky, "", "a"]
        ticket.groups = [0, 12, 345]
        ticket.source = TicketSource(type: "chat-window", url: "https://x.example/a?b=c&d")
        ticket.opened = [OpenedSpan(from: 1, to: 2), OpenedSpan(from: 3)]
        ticket.assignee = Agent(id: "a@b.c", name: tricky)
        let text = String(decoding: ticket.encoded(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""url":"https://x.example/a?b=c&d""#), "slashes as they are: \(text)")
        XCTAssertTrue(text.hasPrefix(#"{"assignee":"#), "keys sorted: \(text)")
        XCTAssertEqual(try Ticket.decode(ticket.encoded()), ticket)
    }

    func testMalformedBodiesAreRefused() {
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
        // Foundation traps on exactly 513 levels: measured first, refused in words.
        XCTAssertThrowsError(try JSONValue(parsing: Array(String(repeating: "[", count: 513).utf8)))
    }
}

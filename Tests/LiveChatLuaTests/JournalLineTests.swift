import Foundation
import XCTest
@testable import LiveChatLua

/// The journal's event lines, written by hand, are the JSON `JSONEncoder` writes with sorted keys,
/// and read back as the same events.
final class JournalLineTests: XCTestCase {
    func testEventLinesAreTheJSONOfTheEncoderWithSortedKeys() throws {
        let events: [Journal.Event] = [
            .init(event: "run", key: "", time: "2026-11-29T20:00:00.123Z", service: "https://api.livechatinc.com/v2/ as me@example.com"),
            .init(event: "attempt", key: "row \"7\"\\x", row: 7, time: "2026-11-29T20:00:01.000Z", fingerprint: "fnv1a64:ab12"),
            .init(event: "created", key: "ünïcödé/🙂", row: 8, time: "2026-11-29T20:00:02.004Z", ticket: "AB12C", via: "reconciled"),
            .init(event: "failed", key: "tab\there\nnewline\r\u{1}", row: 9, time: "2026-11-29T20:00:03.999Z",
                  error: .init(kind: "validation", status: 422, message: "field 'message' \"is\" required")),
            .init(event: "failed", key: "k", row: 10, time: "2026-11-29T20:00:04.000Z",
                  error: .init(kind: "network", status: nil, message: "connection lost")),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for event in events {
            let line = event.line()
            XCTAssertEqual(line.last, UInt8(ascii: "\n"))
            let decoded = try JSONDecoder().decode(Journal.Event.self, from: Data(line.dropLast()))
            XCTAssertEqual(try encoder.encode(decoded), try encoder.encode(event), String(decoding: line, as: UTF8.self))
            XCTAssertEqual(String(decoding: line.dropLast(), as: UTF8.self), String(decoding: try encoder.encode(event), as: UTF8.self))
        }
    }

    func testTimestampsAreUTCWithMilliseconds() {
        XCTAssertEqual(Timestamp.string(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.string(Date(timeIntervalSince1970: 1_764_446_405.0071)), "2025-11-29T20:00:05.007Z")
        XCTAssertEqual(Timestamp.day(Date(timeIntervalSince1970: 1_764_446_405)), "2025-11-29")
        XCTAssertEqual(Timestamp.parse("2025-11-29T20:00:05.007Z").map { Int(($0.timeIntervalSince1970 * 1000).rounded()) }, 1_764_446_405_007)
    }
}

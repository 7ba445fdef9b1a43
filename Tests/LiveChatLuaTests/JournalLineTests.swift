import Foundation
import LiveChat
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

/// The results file's CSV, written by hand, reads back field for field through the CSV library.
final class BulkResultsCSVTests: XCTestCase {
    func testTrickyFieldsReadBackUnchanged() throws {
        let outcomes = [
            BulkOutcome(row: 2, key: "plain", status: .created, ticketID: "AB12C"),
            BulkOutcome(row: 1, key: "comma, \"quoted\"", status: .failed,
                        error: LiveChatError(kind: .validation, status: 422, message: "line one\nline two, with \"quotes\"\r\nend")),
            BulkOutcome(row: 3, key: "ünïcödé", status: .skipped, ticketID: "ZZ999", reconciled: true),
        ]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("results-\(UUID()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try BulkResults.write(outcomes, rowCount: 3, to: path)
        let (rows, header) = try CSVModule.rows(at: path, CSVModule.Options())
        XCTAssertEqual(header, BulkResults.columns)
        XCTAssertEqual(rows, [
            ["1", "comma, \"quoted\"", "failed", "", "", "validation", "422", "line one\nline two, with \"quotes\"\r\nend"],
            ["2", "plain", "created", "AB12C", "", "", "", ""],
            ["3", "ünïcödé", "created before", "ZZ999", "true", "", "", ""],
        ])
    }
}

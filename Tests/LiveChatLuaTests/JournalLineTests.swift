import Foundation
import LiveChat
import XCTest
@testable import BulkCreation
@testable import LiveChatLua

/// The journal's event lines, written by hand, are the JSON `JSONEncoder` writes with sorted keys,
/// and read back as the same events.
final class JournalLineTests: XCTestCase {
    func testEventLinesKeepTheFormatEarlierJournalsWereWrittenIn() throws {
        // Journals outlive versions: a line of an earlier run must read the same, and a new
        // line must be one an earlier version can read.
        let events: [(Journal.Event, String)] = [
            (.init(event: "attempt", key: "row \"7\"/x", row: 7, time: "2026-11-29T20:00:01.000Z", fingerprint: "fnv1a64:ab12"),
             #"{"event":"attempt","fingerprint":"fnv1a64:ab12","key":"row \"7\"/x","row":7,"time":"2026-11-29T20:00:01.000Z"}"#),
            (.init(event: "created", key: "ünï", row: 8, time: "2026-11-29T20:00:02.004Z", ticket: "AB12C", via: "reconciled"),
             #"{"event":"created","key":"ünï","row":8,"ticket":"AB12C","time":"2026-11-29T20:00:02.004Z","via":"reconciled"}"#),
            (.init(event: "failed", key: "tab\tnl\n", row: 9, time: "2026-11-29T20:00:03.999Z",
                   error: .init(kind: "validation", status: 422, message: "required")),
             #"{"error":{"kind":"validation","message":"required","status":422},"event":"failed","key":"tab\tnl\n","row":9,"time":"2026-11-29T20:00:03.999Z"}"#),
        ]
        for (event, expected) in events {
            let line = event.line()
            XCTAssertEqual(String(decoding: line, as: UTF8.self), expected + "\n")
            let decoded = try JSONDecoder().decode(Journal.Event.self, from: Data(expected.utf8))
            XCTAssertEqual(decoded.line(), line)
        }
    }

    func testARequestsFingerprintIsTheOneEarlierJournalsRecorded() {
        // The hash earlier versions wrote for this request: a changed encoding would make every
        // row of an earlier journal look edited.
        let request = CreateTicketRequest(
            message: "Parcel / missing", requesterEmail: "mary@example.com", requesterName: "Mary",
            subject: "Order 7", sourceType: "chat-window", sourceURL: "https://shop.example/help", groups: [0, 2])
        XCTAssertEqual(BulkRun.fingerprint(request), "fnv1a64:74596b1dd7911fb")
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

import Foundation
import LiveChatSandbox
import LuaHost
import XCTest
@testable import LiveChatLua

/// Bulk creation against a sandbox that fails 10% of requests with 503, rate-limits with 429 and
/// Retry-After, and drops 2% of connections without answering: every row ends as exactly one
/// ticket, and the results file says so for each.
final class BulkFaultTests: XCTestCase {
    func testFiveThousandRowsUnderFaultsEndAsExactlyFiveThousandTickets() throws {
        let rows = 5000
        let harness = try BulkHarness(faults: FaultInjection(failureRate: 0.10, failureStatus: 503, rateLimit: 125, dropRate: 0.02))
        defer { harness.stop() }
        let journal = harness.path("faults.journal"), results = harness.path("faults.results.jsonl")
        let started = Date()
        let out = try harness.run("""
            local rows, journal, results = ...
            local s = livechat.createTickets(rows, { concurrency = 32, journal = journal, results = results,
              key = "id", progress = false })
            local first = s.failures[1]
            local r = s.requests
            print(string.format("requests: %d attempts, %d throttled (429), %d server errors, %d network errors, lowest concurrency %d",
              r.attempts, r.throttled, r.serverErrors, r.networkErrors, r.lowestConcurrency))
            return s.created, s.skipped, s.failed, first and tostring(first.error) or "", r.throttled, r.serverErrors, r.networkErrors, r.lowestConcurrency
            """, sampleRows(rows, prefix: "fault"), .string(journal), .string(results))
        XCTAssertEqual(Array(out.prefix(4)), [.integer(Int64(rows)), 0, 0, ""])
        // The faults were met: 429s (with Retry-After), 503s and dropped connections, and the
        // window was cut down when the service pushed back.
        XCTAssertGreaterThan(out[4].integerValue ?? 0, 0, "throttled")
        XCTAssertGreaterThan(out[5].integerValue ?? 0, 0, "server errors")
        XCTAssertGreaterThan(out[6].integerValue ?? 0, 0, "network errors")
        XCTAssertLessThan(out[7].integerValue ?? 32, 32, "concurrency adapted down")
        XCTAssertEqual(try harness.ticketCount, rows, "exactly one ticket per row")

        // Every row's outcome is in the results file, each with its own ticket.
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, rows)
        var ids = Set<String>()
        for (i, line) in lines.enumerated() {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(object["row"] as? Int, i + 1)
            XCTAssertEqual(object["status"] as? String, "created")
            ids.insert(try XCTUnwrap(object["ticketId"] as? String))
        }
        XCTAssertEqual(ids.count, rows, "no ticket is the outcome of two rows")

        // The faults really happened: some attempts ended in doubt (a dropped connection) and
        // were retried only after a search found nothing.
        let journalText = try String(contentsOfFile: journal, encoding: .utf8)
        let attempts = journalText.components(separatedBy: #""event":"attempt""#).count - 1
        XCTAssertGreaterThan(attempts, rows, "dropped connections made some rows try again")
        print("fault run: \(rows) rows, \(attempts) journaled attempts, \(String(format: "%.1f", Date().timeIntervalSince(started)))s")
    }

    /// Answers lost after the ticket was made leave rows in doubt; identical rows (same requester,
    /// subject and message) in doubt at once must each end with a ticket of their own, found by
    /// searching, and none created twice.
    func testIdenticalRowsWhoseAnswersWereLostEachGetTheirOwnTicket() throws {
        let copies = 5, contents = 40, rows = copies * contents
        let harness = try BulkHarness(faults: FaultInjection(lostAnswerRate: 0.3))
        defer { harness.stop() }
        var table: [LuaValue] = []
        for i in 1...rows {
            let content = (i - 1) % contents
            var row = LuaTable()
            row["id"] = .string("same-\(i)")
            row["message"] = .string("Same request \(content): please call me back")
            row["requesterEmail"] = .string("twin\(content)@example.com")
            row["subject"] = .string("Call back \(content)")
            table.append(.table(row))
        }
        let journal = harness.path("lost.journal"), results = harness.path("lost.results.jsonl")
        let out = try harness.run("""
            local rows, journal, results = ...
            local s = livechat.createTickets(rows, { concurrency = 32, journal = journal, results = results,
              key = "id", progress = false })
            return s.created, s.skipped, s.failed
            """, .table(LuaTable(sequence: table)), .string(journal), .string(results))
        XCTAssertEqual(out, [.integer(Int64(rows)), 0, 0])
        XCTAssertEqual(try harness.ticketCount, rows, "exactly one ticket per row")
        var ids = Set<String>()
        for line in try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n") {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            ids.insert(try XCTUnwrap(object["ticketId"] as? String))
        }
        XCTAssertEqual(ids.count, rows, "no ticket is the outcome of two rows")
        let journalText = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertGreaterThan(journalText.components(separatedBy: #""via":"reconciled""#).count - 1, copies,
                             "lost answers were found by searching")
    }

}

import Foundation
import XCTest

/// Every example runs with `--sandbox` and prints what it promises; `call` runs requests in the
/// WSO2 connector's JSON shape.
final class ExamplesTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func example(_ name: String) -> String { Self.root.appendingPathComponent("examples/\(name)").path }

    func testQuickstartListsGetsAndCreates() throws {
        let run = try BuiltBinary.run(["--sandbox", example("quickstart.lua")])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("livechat-lua: sandbox running at http://127.0.0.1:"), run.stderr)
        XCTAssertTrue(run.stdout.contains("open tickets"), run.stdout)
        XCTAssertTrue(run.stdout.contains("first message:"), run.stdout)
        XCTAssertTrue(run.stdout.contains("Created ticket "), run.stdout)
        XCTAssertTrue(run.stdout.contains("\"mail\" : \"mary.brown@example.com\""), run.stdout)
    }

    func testOpenTicketsReportGroupsByAssignee() throws {
        let run = try BuiltBinary.run(["--sandbox", "--json", example("open_tickets_report.lua")])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("Open tickets: "), run.stdout)
        XCTAssertTrue(run.stdout.contains("(unassigned)"), run.stdout)
        // --json prints the returned summary; its total matches the headline.
        let headline = run.stdout.split(separator: "\n")[0].split(separator: " ").last.map(String.init)
        XCTAssertTrue(run.stdout.contains("\"total\" : \(headline ?? "?")"), run.stdout)
    }

    func testTagStaleTagsTicketsAndADryRunChangesNothing() throws {
        let dry = try BuiltBinary.run(["--sandbox", example("tag_stale.lua"), "30", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("(dry run: nothing changed)"), dry.stdout)
        let real = try BuiltBinary.run(["--sandbox", example("tag_stale.lua"), "30"])
        XCTAssertEqual(real.status, 0, real.stderr)
        let count = Int(real.stdout.split(separator: " ").first ?? "") ?? -1
        XCTAssertGreaterThan(count, 0, real.stdout)
        XCTAssertEqual(real.stdout.components(separatedBy: "  tagged ").count - 1, count, real.stdout)
        XCTAssertEqual(try BuiltBinary.run(["--sandbox", example("tag_stale.lua"), "bogus"]).status, 1)
    }

    func testCallCreatesATicketFromAConnectorRequest() throws {
        let request = """
        {"apiUrl": "", "login": "", "apiKey": "",
         "message": "I have a problem with my order.", "requesterEmail": "john.doe@example.com",
         "requesterName": "John Doe", "subject": "Order problem", "sourceType": "chat-window",
         "sourceUrl": "https://shop.example.com", "assigneeId": "jane.doe@mycompany.com", "group": "0"}
        """
        let run = try BuiltBinary.run(["call", "createTicket", "-", "--sandbox"], stdin: request)
        XCTAssertEqual(run.status, 0, run.stderr)
        let ticket = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(ticket?["subject"] as? String, "Order problem")
        XCTAssertEqual((ticket?["requester"] as? [String: Any])?["mail"] as? String, "john.doe@example.com")
        XCTAssertEqual((ticket?["source"] as? [String: Any])?["url"] as? String, "https://shop.example.com")
    }

    func testCallListsWithTheConnectorsStringNumbers() throws {
        let request = #"{"status": "open", "page": "1", "order": "desc", "tagged": "", "dateFrom": "", "assigned": "0"}"#
        let run = try BuiltBinary.run(["call", "listTickets", "-", "--sandbox"], stdin: request)
        XCTAssertEqual(run.status, 0, run.stderr)
        let page = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let tickets = page?["tickets"] as? [[String: Any]] ?? []
        XCTAssertFalse(tickets.isEmpty)
        XCTAssertTrue(tickets.allSatisfy { $0["status"] as? String == "open" && $0["assignee"] == nil })
    }

    func testCallReportsAnErrorAsJSONAndExitsOne() throws {
        let run = try BuiltBinary.run(["call", "getTicketById", "-", "--sandbox"], stdin: #"{"ticketId": "NOPE1"}"#)
        XCTAssertEqual(run.status, 1)
        let body = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((body?["error"] as? [String: Any])?["kind"] as? String, "not_found")
        XCTAssertTrue(run.stderr.contains("livechat: not_found"), run.stderr)
    }

    func testCallRefusesAnUnknownOperation() throws {
        let run = try BuiltBinary.run(["call", "deleteEverything"], stdin: "{}")
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains("usage: livechat-lua call OPERATION"), run.stderr)
    }

    func testHelpShowsExamples() throws {
        let run = try BuiltBinary.run(["--help"])
        XCTAssertEqual(run.status, 0)
        XCTAssertTrue(run.stdout.contains("--sandbox"))
        XCTAssertTrue(run.stdout.contains("Examples:"))
    }

    func testApiKeyFlagIsRefused() throws {
        let run = try BuiltBinary.run(["--api-key", "secret-value", "-e", "print(1)"])
        XCTAssertEqual(run.status, 1)
        XCTAssertFalse(run.stderr.contains("secret-value"))
        XCTAssertTrue(run.stderr.contains("never given on the command line"), run.stderr)
    }

    func testJSONFlagPrintsReturnedValues() throws {
        let run = try BuiltBinary.run(["--json", "-"], stdin: "return {a = 1, b = {2, 3}}, 'x'")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "{\n  \"a\" : 1,\n  \"b\" : [\n    2,\n    3\n  ]\n}\n\"x\"\n")
    }

    func testMaxMemoryCapsTheScript() throws {
        let run = try BuiltBinary.run(["--max-memory", "8M", "-e", "local t = {} for i = 1, 1e7 do t[i] = i end"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("not enough memory"), run.stderr)
    }
}

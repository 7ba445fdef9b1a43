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
        XCTAssertTrue(run.stdout.contains("\"mail\": \"mary.brown@example.com\""), run.stdout)
    }

    func testASandboxTestAssertsWhatTheScriptSent() throws {
        let run = try BuiltBinary.run(["--sandbox", example("sandbox_test.lua")])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "ok: 1 ticket tagged, 2 requests checked\n")
    }

    func testOpenTicketsReportGroupsByAssignee() throws {
        let run = try BuiltBinary.run(["--sandbox", "--json", example("open_tickets_report.lua")])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("Open tickets: "), run.stdout)
        XCTAssertTrue(run.stdout.contains("(unassigned)"), run.stdout)
        // --json prints the returned summary; its total matches the headline.
        let headline = run.stdout.split(separator: "\n")[0].split(separator: " ").last.map(String.init)
        XCTAssertTrue(run.stdout.contains("\"total\": \(headline ?? "?")"), run.stdout)
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
        XCTAssertTrue(run.stderr.contains("unknown operation 'deleteEverything'"), run.stderr)
        XCTAssertTrue(run.stderr.contains("usage: livechat-lua call OPERATION"), run.stderr)
        let misspelt = try BuiltBinary.run(["call", "getTicketByID"], stdin: "{}")
        XCTAssertEqual(misspelt.status, 2)
        XCTAssertTrue(misspelt.stderr.contains("unknown operation 'getTicketByID' (did you mean 'getTicketById'?)"), misspelt.stderr)
    }

    func testCallKeepsItsContractForEveryFailure() throws {
        // A field refused before sending: the same {"error": …} document, exit 1, no traceback.
        let local = try BuiltBinary.run(["call", "createTicket", "-", "--sandbox"], stdin: #"{"message": "Hi", "requesterEmail": 5}"#)
        XCTAssertEqual(local.status, 1, local.stderr)
        let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(local.stdout.utf8)) as? [String: Any])
        let error = try XCTUnwrap(body["error"] as? [String: Any])
        XCTAssertEqual(error["kind"] as? String, "validation")
        XCTAssertEqual(error["message"] as? String, "field 'requesterEmail' expected string, got number")
        XCTAssertFalse(local.stderr.contains("traceback"), local.stderr)
        XCTAssertFalse(local.stderr.contains("call:"), local.stderr)
        let outOfRange = try BuiltBinary.run(["call", "listTickets", "-", "--sandbox"], stdin: #"{"page": 9223372036854775807}"#)
        XCTAssertEqual(outOfRange.status, 1, outOfRange.stderr)
        XCTAssertTrue(outOfRange.stdout.contains("from 1 to 1000000"), outOfRange.stdout)

        // Usage problems: exit 2, said in words, nothing on stdout.
        let usage: [(String, String)] = [
            ("[]", "the request must be a JSON object"),
            ("\"text\"", "the request must be a JSON object"),
            ("{\n  \"ticketId\": ,\n}", "the request is not valid JSON (line 2, column 15: invalid value"),
            ("{\"ticketId\": \"5FUED\"", "the request is not valid JSON (line 1, column 21: the text ends before the JSON does)"),
        ]
        for (request, message) in usage {
            let run = try BuiltBinary.run(["call", "getTicketById", "-", "--sandbox"], stdin: request)
            XCTAssertEqual(run.status, 2, request)
            XCTAssertTrue(run.stderr.contains(message), "\(request): \(run.stderr)")
            XCTAssertEqual(run.stdout, "", request)
            XCTAssertFalse(run.stderr.contains("DecodingError") || run.stderr.contains("Dictionary<"), run.stderr)
        }
    }

    func testCallRelaysTheResponseWithItsJSONTypesAndUpdatesTags() throws {
        let got = try BuiltBinary.run(["call", "getTicketById", "-", "--sandbox"], stdin: #"{"ticketId": "5FUED"}"#)
        XCTAssertEqual(got.status, 0, got.stderr)
        XCTAssertTrue(got.stdout.contains(#""firstResponse": {}"#), got.stdout)
        let ticket = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(got.stdout.utf8)) as? [String: Any])
        XCTAssertNotNil(ticket["firstResponse"] as? [String: Any], "an empty object stays an object")
        XCTAssertEqual(ticket["modified"] as? Int, 1_384_790_802)
        let tagged = try BuiltBinary.run(["call", "updateTicketTags", "-", "--sandbox"], stdin: #"{"ticketId": "5FUED", "tags": ["vip", "billing"]}"#)
        XCTAssertEqual(tagged.status, 0, tagged.stderr)
        let updated = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(tagged.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(updated["tags"] as? [String] ?? []), ["vip", "billing"])
    }

    func testTheEditorTypesAreWrittenWhereAsked() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("livechat-types-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try BuiltBinary.run(["--lua-ls-types", folder])
        XCTAssertEqual(run.status, 0, run.stderr)
        let text = try String(contentsOfFile: folder + "/livechat.lua", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("---@meta\n"), text)
        XCTAssertTrue(text.contains("---@class livechat.Ticket"))
        XCTAssertTrue(text.contains("function livechat.createTicket(fields) end"))
        let parses = try BuiltBinary.run(["-e", "assert(loadfile(arg[1]))", folder + "/livechat.lua"])
        XCTAssertEqual(parses.status, 0, parses.stderr)
    }

    func testHelpShowsExamples() throws {
        let run = try BuiltBinary.run(["--help"])
        XCTAssertEqual(run.status, 0)
        XCTAssertTrue(run.stdout.contains("--sandbox"))
        XCTAssertTrue(run.stdout.contains("Examples:"))
    }

    func testApiKeyFlagIsRefused() throws {
        let run = try BuiltBinary.run(["--api-key", "secret-value", "-e", "print(1)"])
        XCTAssertEqual(run.status, 2, "a usage error")
        XCTAssertFalse(run.stderr.contains("secret-value"))
        XCTAssertTrue(run.stderr.contains("never given on the command line"), run.stderr)
    }

    func testJSONFlagPrintsTheReturnedValuesAsOneDocument() throws {
        let run = try BuiltBinary.run(["--json", "-"], stdin: "return {a = 1, b = {2, 3}, c = {}, d = 'x: \"{}\"'}, 'x'")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, """
            [
              {
                "a": 1,
                "b": [
                  2,
                  3
                ],
                "c": [],
                "d": "x: \\"{}\\""
              },
              "x"
            ]

            """)
        let one = try BuiltBinary.run(["--json", "-"], stdin: "return 5")
        XCTAssertEqual(one.stdout, "5\n", "one value is the document itself")
        let pretty = try BuiltBinary.run(["-e", "print(json.encode({k = {1}, e = {}}, {pretty = true}))"])
        XCTAssertEqual(pretty.stdout, "{\n  \"e\": [],\n  \"k\": [\n    1\n  ]\n}\n")
    }

    func testMaxMemoryCapsTheScript() throws {
        let run = try BuiltBinary.run(["--max-memory", "8M", "-e", "local t = {} for i = 1, 1e7 do t[i] = i end"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("not enough memory"), run.stderr)
    }
}

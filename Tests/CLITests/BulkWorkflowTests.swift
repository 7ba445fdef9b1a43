import Foundation
import XCTest

/// The bulk command in the workflows users really have: a file edited between runs, a key option
/// forgotten, identical rows, identical tickets already on the server, a sandbox try-out beside a
/// real run, a results path that cannot be written, runs stopped by Ctrl-C or `kill -9`. Each ends
/// with exactly one ticket per row and a results file that says which.
final class BulkWorkflowTests: XCTestCase {
    var directory: URL!
    let environment = ["LIVECHAT_API_KEY": BulkCrashTests.key]

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulk-flow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    // MARK: - Helpers

    /// A `serve --db` process (it outlives the bulk runs' kills); stopped when the test ends.
    func startServer(_ flags: [String] = []) throws -> ServeProcess {
        let server = try ServeProcess(["--port", "0", "--db", directory.appendingPathComponent("sandbox-\(UUID()).sqlite").path] + flags)
        addTeardownBlock { _ = server.stop() }
        return server
    }

    /// Writes a CSV of `(id, message)` rows; every row's requester is the same person.
    func writeCSV(_ name: String, _ rows: [(id: String, message: String)]) throws -> String {
        var text = "id,requester_email,message\n"
        for row in rows { text += "\(row.id),mary@example.com,\"\(row.message)\"\n" }
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func bulk(_ csv: String, _ server: ServeProcess, _ extra: [String] = [], timeout: TimeInterval = 120) throws -> BinaryRun {
        try BuiltBinary.run(["bulk", csv, "--api-url", server.url.absoluteString, "--login", BulkCrashTests.login,
                             "--results", resultsPath(csv)] + extra,
                            environment: environment, timeout: timeout)
    }

    func resultsPath(_ csv: String) -> String { csv.replacingOccurrences(of: ".csv", with: ".results.jsonl") }

    /// The results file's lines, in row order.
    func results(_ csv: String) throws -> [[String: Any]] {
        try String(contentsOfFile: resultsPath(csv), encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Every ticket of the server: id → its first message.
    func tickets(_ server: ServeProcess) throws -> [String: String] {
        let run = try BuiltBinary.run(["--api-url", server.url.absoluteString, "--login", BulkCrashTests.login, "-e", """
            for t in livechat.tickets{ order = "asc" } do print(t.id .. "\\t" .. t.events[1].message) end
            """], environment: environment, timeout: 120)
        XCTAssertEqual(run.status, 0, run.stderr)
        var all: [String: String] = [:]
        for line in run.stdout.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if parts.count == 2 { all[parts[0]] = parts[1] }
        }
        return all
    }

    /// Asserts that the results file links every row to its own ticket, one whose message is the
    /// row's, no ticket to two rows; returns the tickets linked.
    @discardableResult
    func assertEveryRowHasItsOwnTicket(_ csv: String, _ rows: [(id: String, message: String)], _ server: ServeProcess,
                                       file: StaticString = #filePath, line: UInt = #line) throws -> Set<String> {
        let lines = try results(csv)
        XCTAssertEqual(lines.count, rows.count, "a results line for every row", file: file, line: line)
        let all = try tickets(server)
        var linked = Set<String>()
        for (index, result) in lines.enumerated() where index < rows.count {
            let status = result["status"] as? String ?? ""
            XCTAssertTrue(status == "created" || status == "created before", "row \(index + 1): \(result)", file: file, line: line)
            guard let id = result["ticketId"] as? String else {
                XCTFail("row \(index + 1) has no ticket: \(result)", file: file, line: line)
                continue
            }
            XCTAssertEqual(all[id], rows[index].message, "row \(index + 1)'s ticket \(id)", file: file, line: line)
            XCTAssertTrue(linked.insert(id).inserted, "ticket \(id) is linked to two rows", file: file, line: line)
        }
        return linked
    }

    // MARK: - Workflows

    func testAForgottenKeyOptionIsRefusedBeforeAnythingIsSent() throws {
        let server = try startServer()
        let rows = (1...3).map { (id: "K\($0)", message: "Keyed row \($0)") }
        let csv = try writeCSV("k.csv", rows)
        XCTAssertEqual(try bulk(csv, server, ["--key", "id"]).status, 0)
        let journal = try String(contentsOfFile: csv.replacingOccurrences(of: ".csv", with: ".journal"), encoding: .utf8)
        XCTAssertTrue(journal.contains(#""keyScheme":"column id""#), journal)

        let forgotten = try bulk(csv, server)
        XCTAssertEqual(forgotten.status, 2, forgotten.stderr)
        XCTAssertTrue(forgotten.stderr.contains("belongs to another run: it identified rows by the column 'id' (--key), this run by their content (no --key)"), forgotten.stderr)
        XCTAssertTrue(forgotten.stderr.contains("Nothing was sent"), forgotten.stderr)
        XCTAssertEqual(try tickets(server).count, 3, "no row was created again")

        let otherColumns = try bulk(csv, server, ["--key", "id", "--map", "subject=id"])
        XCTAssertEqual(otherColumns.status, 2, otherColumns.stderr)
        XCTAssertTrue(otherColumns.stderr.contains("it mapped columns as message=message,requesterEmail=requester_email, this run as message=message,requesterEmail=requester_email,subject=id"), otherColumns.stderr)

        let again = try bulk(csv, server, ["--key", "id"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try tickets(server).count, 3)
        try assertEveryRowHasItsOwnTicket(csv, rows, server)
    }

    func testRowsInsertedRemovedReorderedOrEditedChangeNothingForTheOthers() throws {
        let server = try startServer()
        let first = (1...5).map { (id: "", message: "Row \($0) of the export") }
        let csv = try writeCSV("export.csv", first)
        XCTAssertEqual(try bulk(csv, server).status, 0)
        let before = try tickets(server)
        XCTAssertEqual(before.count, 5)

        // A row at the top, row 3 gone, rows 4 and 5 swapped, row 2 edited, and row 1 twice.
        let edited: [(id: String, message: String)] = [
            ("", "A new first row"), ("", "Row 1 of the export"), ("", "Row 2 of the export, corrected"),
            ("", "Row 5 of the export"), ("", "Row 4 of the export"), ("", "Row 1 of the export"),
        ]
        _ = try writeCSV("export.csv", edited)
        let rerun = try bulk(csv, server)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        let statuses = try results(csv).map { $0["status"] as? String ?? "" }
        XCTAssertEqual(statuses, ["created", "created before", "created", "created before", "created before", "created"])
        XCTAssertTrue(rerun.stderr.contains("2 rows of the journal are no longer in the file"), rerun.stderr)
        let linked = try assertEveryRowHasItsOwnTicket(csv, edited, server)
        XCTAssertEqual(try tickets(server).count, 5 + 3, "the new row, the edited row and the second copy of row 1")
        XCTAssertTrue(Set(before.keys).isSubset(of: Set(try tickets(server).keys)))
        XCTAssertEqual(linked.count, 6)
    }

    func testIdenticalRowsAreTwoTicketsAndARerunMakesNoMore() throws {
        let server = try startServer()
        let rows = [(id: "", message: "Same words"), (id: "", message: "Same words"), (id: "", message: "Other words")]
        let csv = try writeCSV("same.csv", rows)
        XCTAssertEqual(try bulk(csv, server).status, 0)
        XCTAssertEqual(try bulk(csv, server).status, 0)
        XCTAssertEqual(try tickets(server).count, 3)
        try assertEveryRowHasItsOwnTicket(csv, rows, server)
    }

    func testAnEditedRowWhoseKeyWasCreatedIsReportedAsChangedAndNotSent() throws {
        let server = try startServer()
        let rows = [(id: "A-16", message: "First"), (id: "A-17", message: "Second")]
        let csv = try writeCSV("keyed.csv", rows)
        XCTAssertEqual(try bulk(csv, server, ["--key", "id"]).status, 0)
        let ticket = try XCTUnwrap(try results(csv)[1]["ticketId"] as? String)
        _ = try writeCSV("keyed.csv", [(id: "A-16", message: "First"), (id: "A-17", message: "Second, edited")])
        let rerun = try bulk(csv, server, ["--key", "id"])
        XCTAssertEqual(rerun.status, 1, rerun.stderr)
        XCTAssertTrue(rerun.stderr.contains("row 2 (key A-17) changed since it was created as ticket \(ticket); not sent"), rerun.stderr)
        let lines = try results(csv)
        XCTAssertEqual(lines[1]["status"] as? String, "changed")
        XCTAssertEqual(lines[1]["ticketId"] as? String, ticket)
        XCTAssertEqual(lines[0]["status"] as? String, "created before")
        XCTAssertEqual(try tickets(server).count, 2, "the edited row was not sent")
    }

    func testASandboxRunLeavesTheRealRunsFilesAlone() throws {
        let csv = try writeCSV("real.csv", [(id: "1", message: "Try me")])
        let realResults = directory.appendingPathComponent("real.results.csv").path
        let realJournal = directory.appendingPathComponent("real.journal").path
        try "precious results\n".write(toFile: realResults, atomically: true, encoding: .utf8)
        try "{\"precious\": true}\n".write(toFile: realJournal, atomically: true, encoding: .utf8)
        for _ in 1...2 {
            let run = try BuiltBinary.run(["bulk", csv, "--sandbox"])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stderr.contains("1 created"), run.stderr)
        }
        XCTAssertEqual(try String(contentsOfFile: realResults, encoding: .utf8), "precious results\n")
        XCTAssertEqual(try String(contentsOfFile: realJournal, encoding: .utf8), "{\"precious\": true}\n")
        let sandboxResults = try String(contentsOfFile: directory.appendingPathComponent("real.sandbox.results.csv").path, encoding: .utf8)
        XCTAssertTrue(sandboxResults.contains(",created,"), sandboxResults)
    }

    func testAResultsPathThatCannotBeWrittenStopsTheRunWithNothingSent() throws {
        let server = try startServer()
        let csv = try writeCSV("r.csv", [(id: "1", message: "Never sent")])
        for results in ["/nonexistent-folder/r.results.csv", directory.path] {
            let run = try BuiltBinary.run(["bulk", csv, "--api-url", server.url.absoluteString, "--login", BulkCrashTests.login,
                                           "--results", results], environment: environment)
            XCTAssertEqual(run.status, 2, run.stderr)
            XCTAssertTrue(run.stderr.contains("cannot write the results file \(results)"), run.stderr)
            XCTAssertTrue(run.stderr.contains("nothing was sent"), run.stderr)
        }
        XCTAssertEqual(try tickets(server).count, 0)
    }

    func testTicketsOfTheSameContentMadeBeforeTheRunAreNeverTakenForItsRows() throws {
        // Every create's answer is lost half the time: those rows are looked up. Identical
        // tickets made before the run (by an earlier file) must not be taken for them.
        let server = try startServer(["--lost-answer-rate", "0.5", "--seed", "9"])
        let rows = (1...12).map { (id: "", message: "Recurring request \($0 % 3)") }
        let earlier = try writeCSV("earlier.csv", Array(rows.prefix(3)))
        XCTAssertEqual(try bulk(earlier, server).status, 0)
        let existing = Set(try tickets(server).keys)
        XCTAssertEqual(existing.count, 3)
        Thread.sleep(forTimeInterval: 3)  // past the documented clock slack of 2 s

        let csv = try writeCSV("now.csv", rows)
        let run = try bulk(csv, server)
        XCTAssertEqual(run.status, 0, run.stderr)
        let linked = try assertEveryRowHasItsOwnTicket(csv, rows, server)
        XCTAssertTrue(linked.isDisjoint(with: existing), "a ticket made before the run was taken for a row")
        XCTAssertEqual(try tickets(server).count, 3 + 12)
    }

    func testCtrlCAndKill9AtRandomMomentsWithLostAnswersEndWithOneTicketPerRow() throws {
        let server = try startServer(["--lost-answer-rate", "0.05", "--latency-ms", "5"])
        // Identical rows among them, and no key: identity by content and occurrence.
        let rows = (1...600).map { (id: "", message: "Interrupted run row \($0 % 450)") }
        let csv = try writeCSV("stop.csv", rows)
        let arguments = ["bulk", csv, "--api-url", server.url.absoluteString, "--login", BulkCrashTests.login,
                         "--results", resultsPath(csv), "--concurrency", "16"]
        var stops: [String] = []
        for round in 1...10 {
            let process = try BuiltBinary.start(arguments, environment: environment)
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.6))
            let signal = round % 2 == 0 ? SIGINT : SIGKILL
            let wasRunning = process.isRunning
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            stops.append("\(signal == SIGINT ? "Ctrl-C" : "kill -9")\(wasRunning ? "" : " (had ended)")")
        }
        let final = try BuiltBinary.run(arguments, environment: environment, timeout: 180)
        XCTAssertEqual(final.status, 0, "after \(stops): \(final.stderr)")
        try assertEveryRowHasItsOwnTicket(csv, rows, server)
        XCTAssertEqual(try tickets(server).count, rows.count, "exactly one ticket per row after \(stops)")
    }
}

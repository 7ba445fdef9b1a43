import Foundation
import XCTest

/// `livechat-lua bulk FILE.csv` and `examples/bulk_create.lua`, run as a user runs them.
final class BulkCommandTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let exampleCSV = root.appendingPathComponent("examples/data/tickets.csv")
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulk-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    func testBulkCreatesATicketForEveryRowOfTheExampleCSV() throws {
        let csv = directory.appendingPathComponent("tickets.csv")
        try FileManager.default.copyItem(at: Self.exampleCSV, to: csv)
        let run = try BuiltBinary.run([
            "bulk", csv.path, "--sandbox", "--key", "id", "--map", "requesterEmail=email", "--map", "requesterName=name",
            "--map", "sourceType=source", "--map", "sourceUrl=page_url", "--concurrency", "16",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("bulk: 300 rows: 300 created, 0 skipped (done before), 0 failed"), run.stderr)
        // The results file maps every row to its ticket. Under --sandbox, the default files say
        // so in their names: a real run's files beside the CSV are never touched.
        let results = try String(contentsOf: directory.appendingPathComponent("tickets.sandbox.results.csv"), encoding: .utf8)
        let lines = results.split(separator: "\n")
        XCTAssertEqual(lines.first, "row,key,status,ticket_id,reconciled,error_kind,error_status,error_message")
        XCTAssertEqual(lines.count, 301)
        XCTAssertTrue(lines[1].hasPrefix("1,EXT-0001,created,"), String(lines[1]))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("tickets.journal").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("tickets.results.csv").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("tickets.sandbox.journal").path))
    }

    func testOffATerminalProgressIsALineEveryFewSecondsAndJSONGivesTheSummary() throws {
        let slow = try SlowSandbox.start(latencyMilliseconds: 300)
        defer { slow.stop() }
        let csv = directory.appendingPathComponent("slow.csv")
        try (["requester_email,message"] + (1...100).map { "c\($0)@example.com,Row \($0)" })
            .joined(separator: "\n").write(to: csv, atomically: true, encoding: .utf8)
        let run = try BuiltBinary.run(["bulk", csv.path, "--concurrency", "4", "--json"], environment: [
            "LIVECHAT_API_URL": slow.url, "LIVECHAT_LOGIN": "agent@sandbox.livechat.local", "LIVECHAT_API_KEY": "sandbox-demo-key",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let progress = run.stderr.split(separator: "\n").filter { $0.hasPrefix("bulk: ") && $0.contains("/100  ") }
        XCTAssertFalse(progress.isEmpty, "a progress line within the 7 s run: \(run.stderr)")
        XCTAssertTrue(progress.allSatisfy { $0.contains("/s  ETA ") && $0.hasSuffix(" failed") }, run.stderr)
        XCTAssertFalse(run.stderr.contains("\r"), "nothing redrawn in place off a terminal")
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        XCTAssertEqual(summary["rows"] as? Int, 100)
        XCTAssertEqual(summary["created"] as? Int, 100)
        XCTAssertEqual(summary["failed"] as? Int, 0)
        XCTAssertEqual(summary["interrupted"] as? Bool, false)
        XCTAssertEqual(summary["journal"] as? String, directory.appendingPathComponent("slow.journal").path)
        XCTAssertGreaterThan(summary["ticketsPerSecond"] as? Double ?? 0, 0)
    }

    func testDryRunNamesEachBadRowAndExitsOne() throws {
        let csv = directory.appendingPathComponent("bad.csv")
        try """
            requester_email,message,group
            mary@example.com,"Hello, world",0;2
            not-an-address,Broken row,0
            john@example.com,,1
            """.write(to: csv, atomically: true, encoding: .utf8)
        let run = try BuiltBinary.run(["bulk", csv.path, "--dry-run"])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("row 2: field 'requesterEmail' expected an e-mail address, got 'not-an-address'"), run.stderr)
        XCTAssertTrue(run.stderr.contains("row 3: field 'message' expected string, got nil"), run.stderr)
        XCTAssertTrue(run.stderr.contains("bulk: dry run: 3 rows, 1 valid, 2 invalid; nothing sent"), run.stderr)
    }

    func testAMissingColumnIsAnInputErrorWithExitStatusTwo() throws {
        let csv = directory.appendingPathComponent("nocol.csv")
        try "email,text\na@example.com,hi\n".write(to: csv, atomically: true, encoding: .utf8)
        let run = try BuiltBinary.run(["bulk", csv.path, "--dry-run", "--map", "requesterEmail=email"])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("no column for 'message'"), run.stderr)
        XCTAssertTrue(run.stderr.contains("--map message=COLUMN"), run.stderr)
    }

    func testColumnsAreFoundByNameOrMapAndGroupsAreSplit() throws {
        let server = try ServeProcess(["--port", "0", "--db", directory.appendingPathComponent("sandbox.sqlite").path])
        defer { _ = server.stop() }
        // Semicolons between fields; header names in other cases and spellings; the message in a
        // column that only --map names; groups separated by commas and spaces.
        let csv = directory.appendingPathComponent("semicolons.csv")
        try """
            Ref;E-Mail Address;Requester Name;SUBJECT;Body text;Group
            A1;mary@example.com;Mary;Parcel;"Where is my parcel; it is late";1, 2.0
            A2;john@example.com;;;Refund please;
            """.write(to: csv, atomically: true, encoding: .utf8)
        let environment = ["LIVECHAT_API_KEY": BulkCrashTests.key]
        let run = try BuiltBinary.run([
            "bulk", csv.path, "--delimiter", ";", "--key", "Ref", "--map", "message=Body text",
            "--map", "requesterEmail=E-Mail Address", "--api-url", server.url.absoluteString, "--login", BulkCrashTests.login,
        ], environment: environment)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("bulk: 2 rows: 2 created"), run.stderr)
        let listed = try BuiltBinary.run(["--api-url", server.url.absoluteString, "--login", BulkCrashTests.login, "-e", """
            for t in livechat.tickets{ order = "asc" } do
              local groups = {}
              for _, g in ipairs(t.groups or {}) do groups[#groups + 1] = tostring(g) end
              print(t.requester.mail, t.requester.name or "-", t.subject or "-", t.events[1].message, table.concat(groups, ","))
            end
            """], environment: environment)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, listed.stdout)
        XCTAssertTrue(lines.contains("mary@example.com\tMary\tParcel\tWhere is my parcel; it is late\t1,2"), listed.stdout)
        XCTAssertTrue(lines.contains(where: { $0.hasPrefix("john@example.com\t") && $0.contains("\tRefund please\t") }), listed.stdout)
    }

    func testKeyProblemsFailTheirRowsAndMissingColumnsStopTheRun() throws {
        let csv = directory.appendingPathComponent("keys.csv")
        try """
            id,requester_email,message
            K1,mary@example.com,First
            ,john@example.com,No key
            K1,anna@example.com,Same key again
            K2,bob@example.com,Fine
            """.write(to: csv, atomically: true, encoding: .utf8)
        let run = try BuiltBinary.run(["bulk", csv.path, "--dry-run", "--key", "id"])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("row 2: key column 'id' is empty"), run.stderr)
        XCTAssertTrue(run.stderr.contains("row 3: key 'K1' repeats row 1's"), run.stderr)
        XCTAssertTrue(run.stderr.contains("bulk: dry run: 4 rows, 2 valid, 2 invalid; nothing sent"), run.stderr)

        let noKey = try BuiltBinary.run(["bulk", csv.path, "--dry-run", "--key", "ref"])
        XCTAssertEqual(noKey.status, 2, noKey.stderr)
        XCTAssertTrue(noKey.stderr.contains("--key: no column 'ref' in \(csv.path)"), noKey.stderr)
        let noMapped = try BuiltBinary.run(["bulk", csv.path, "--dry-run", "--map", "subject=title"])
        XCTAssertEqual(noMapped.status, 2, noMapped.stderr)
        XCTAssertTrue(noMapped.stderr.contains("--map subject=title: no column 'title' in \(csv.path)"), noMapped.stderr)
        let noFile = try BuiltBinary.run(["bulk", directory.appendingPathComponent("absent.csv").path, "--dry-run"])
        XCTAssertEqual(noFile.status, 2, noFile.stderr)
        XCTAssertTrue(noFile.stderr.contains("absent.csv: no such file or directory"), noFile.stderr)
    }

    func testCtrlCStopsTheRunCleanlyAndTheSameCommandResumesIt() throws {
        try interruptAndResume(rows: 60, latencyMilliseconds: 300, concurrency: 6, padding: "")
    }

    func testCtrlCStopsALargeFileReadWhileSentAndTheSameCommandResumesIt() throws {
        // Over 256 KiB: the rest of the file may still be being read when Ctrl-C comes.
        try interruptAndResume(rows: 3_000, latencyMilliseconds: 25, concurrency: 16,
                               padding: String(repeating: "so that the file is read in parts while it is sent; ", count: 2))
    }

    /// Runs bulk against a slow sandbox (so that Ctrl-C finds creates in flight), interrupts it
    /// once a dozen tickets are made, checks how it stopped, and resumes it with the same command.
    private func interruptAndResume(rows: Int, latencyMilliseconds: Int, concurrency: Int, padding: String) throws {
        let server = try ServeProcess(["--port", "0", "--db", directory.appendingPathComponent("sandbox.sqlite").path,
                                       "--latency-ms", String(latencyMilliseconds)])
        defer { _ = server.stop() }
        var csv = "id,requester_email,message\n"
        for i in 1...rows { csv += "R\(i),customer\(i)@example.com,Interrupted run row \(i) \(padding)\n" }
        if !padding.isEmpty { XCTAssertGreaterThan(csv.utf8.count, 256 * 1024) }
        let csvPath = directory.appendingPathComponent("rows.csv").path
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let journal = directory.appendingPathComponent("rows.journal").path
        let results = directory.appendingPathComponent("rows.results.csv").path
        let arguments = ["bulk", csvPath, "--key", "id", "--concurrency", String(concurrency), "--api-url", server.url.absoluteString,
                         "--login", BulkCrashTests.login]
        let environment = ["LIVECHAT_API_KEY": BulkCrashTests.key]

        let process = Process()
        process.executableURL = BuiltBinary.url
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let started = Date()
        func created() -> Int {
            ((try? String(contentsOfFile: journal, encoding: .utf8)) ?? "").components(separatedBy: #""event":"created""#).count - 1
        }
        while process.isRunning && created() < 12 && Date().timeIntervalSince(started) < 20 {
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertTrue(process.isRunning, "the run was still going when interrupted")
        kill(process.processIdentifier, SIGINT)
        let interruptedAt = Date()
        process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(interruptedAt), 3, "the run stopped without sending the rest")
        let told = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 130, told)
        XCTAssertTrue(told.contains("not attempted"), told)
        XCTAssertTrue(told.contains("livechat-lua bulk: interrupted; run the same command again to resume"), told)
        // The results file was written: every row has its line, those never sent "not attempted".
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, rows + 1, "a header and every row")
        let notAttempted = lines.filter { $0.contains(",not attempted,") }.count
        XCTAssertGreaterThan(notAttempted, 0, "rows the interrupt kept from being sent")
        XCTAssertLessThan(notAttempted, rows - 11)
        XCTAssertEqual(lines.filter { $0.contains(",failed,") }.count, 0, "interrupted rows are not failures")

        // Rows whose attempts were recorded ahead but never started are recorded as not sent:
        // the rerun sends them without a lookup.
        let journalText = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertGreaterThan(journalText.components(separatedBy: #""event":"notSent""#).count - 1, 0, "rows announced but never sent")

        let resumed = try BuiltBinary.run(arguments, environment: environment, timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let (total, distinct) = try BuiltBinary.ticketsAndDistinctMessages(at: server.url, environment: environment)
        XCTAssertEqual(total, rows, "exactly one ticket per row")
        XCTAssertEqual(distinct, rows, "none duplicated")
    }

    func testALargeFileIsSentWhileItIsReadAndEveryRowIsAccountedFor() throws {
        // Over 256 KiB: its first part's rows are sent while the rest is read. Bad rows and a
        // repeated key far into the file still fail alone, numbered as in the file.
        let server = try ServeProcess(["--port", "0", "--db", directory.appendingPathComponent("sandbox.sqlite").path])
        defer { _ = server.stop() }
        let rows = 4_000
        var csv = "id,requester_email,message\n"
        for i in 1...rows {
            let mail = i == 3_500 ? "not-an-address" : "customer\(i % 300)@example.com"
            let id = i == 3_900 ? "L17" : "L\(i)"
            csv += "\(id),\(mail),\"Streamed row \(i): a longer message, so that the file is large enough to be read in parts\"\n"
        }
        XCTAssertGreaterThan(csv.utf8.count, 256 * 1024)
        let csvPath = directory.appendingPathComponent("large.csv").path
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let results = directory.appendingPathComponent("large.results.csv").path
        let environment = ["LIVECHAT_API_KEY": BulkCrashTests.key]
        let run = try BuiltBinary.run(["bulk", csvPath, "--key", "id", "--concurrency", "16", "--results", results,
                                       "--api-url", server.url.absoluteString, "--login", BulkCrashTests.login],
                                      environment: environment, timeout: 120)
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("row 3500: field 'requesterEmail' expected an e-mail address, got 'not-an-address'"), run.stderr)
        XCTAssertTrue(run.stderr.contains("row 3900: key 'L17' repeats row 17's"), run.stderr)
        XCTAssertTrue(run.stderr.contains("bulk: 4000 rows: 3998 created, 0 skipped (done before), 2 failed"), run.stderr)
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, rows + 1, "a line for every row")
        XCTAssertTrue(lines[3_500].hasPrefix("3500,L3500,failed,"), String(lines[3_500]))
        XCTAssertTrue(lines[4_000].hasPrefix("4000,L4000,created,"), String(lines[4_000]))
        let (total, distinct) = try BuiltBinary.ticketsAndDistinctMessages(at: server.url, environment: environment)
        XCTAssertEqual(total, rows - 2)
        XCTAssertEqual(distinct, rows - 2)
    }

    func testTheBulkExampleRunsWithTheSandbox() throws {
        let journal = directory.appendingPathComponent("example.journal").path
        let run = try BuiltBinary.run(["--sandbox", "examples/bulk_create.lua", Self.exampleCSV.path, journal],
                                      currentDirectory: Self.root)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("created 300, skipped 0, failed 0 of 300 rows"), run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("chat-window"), run.stdout)
    }
}

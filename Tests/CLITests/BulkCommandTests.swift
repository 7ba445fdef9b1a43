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
        // The results file maps every row to its ticket. The embedded sandbox dies with the
        // process, so its journal is a temporary file, not one beside the CSV.
        let results = try String(contentsOf: directory.appendingPathComponent("tickets.results.csv"), encoding: .utf8)
        let lines = results.split(separator: "\n")
        XCTAssertEqual(lines.first, "row,key,status,ticket_id,reconciled,error_kind,error_status,error_message")
        XCTAssertEqual(lines.count, 301)
        XCTAssertTrue(lines[1].hasPrefix("1,EXT-0001,created,"), String(lines[1]))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("tickets.journal").path))
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

    func testTheBulkExampleRunsWithTheSandbox() throws {
        let journal = directory.appendingPathComponent("example.journal").path
        let run = try BuiltBinary.run(["--sandbox", "examples/bulk_create.lua", Self.exampleCSV.path, journal],
                                      currentDirectory: Self.root)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("created 300, skipped 0, failed 0 of 300 rows"), run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("chat-window"), run.stdout)
    }
}

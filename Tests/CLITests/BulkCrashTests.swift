import Foundation
import XCTest

/// `kill -9` at random moments of a bulk run, resumed each time with the same journal: the
/// sandbox (a separate `serve --db` process, so it outlives the kills) ends with exactly one
/// ticket per row.
final class BulkCrashTests: XCTestCase {
    static let rows = 5000
    static let login = "agent@sandbox.livechat.local"
    static let key = "sandbox-demo-key"

    func testKilledFiveTimesAndResumedEndsWithExactlyOneTicketPerRow() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulk-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let server = try ServeProcess(["--port", "0", "--db", directory.appendingPathComponent("sandbox.sqlite").path])
        defer { _ = server.stop() }

        var csv = "id,requester_email,requester_name,subject,message\n"
        for i in 1...Self.rows {
            csv += "C\(i),customer\(i % 97)@example.com,Customer \(i),Order \(i),\"Crash test row \(i), please help\"\n"
        }
        let csvPath = directory.appendingPathComponent("rows.csv").path
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let journal = directory.appendingPathComponent("rows.journal").path
        let results = directory.appendingPathComponent("rows.results.jsonl").path
        let arguments = ["bulk", csvPath, "--key", "id", "--journal", journal, "--results", results,
                         "--concurrency", "16", "--api-url", server.url.absoluteString, "--login", Self.login]
        let environment = ["LIVECHAT_API_KEY": Self.key]

        // Each run is killed at a random moment while it is creating: once its journal has grown
        // by a random amount (75 to 750 events), plus a random fraction of a tenth of a second.
        var moments: [String] = []
        func journalSize() -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: journal))?[.size] as? Int) ?? 0
        }
        for _ in 1...5 {
            let before = journalSize()
            let growth = Int.random(in: 10_000...100_000)
            let process = try BuiltBinary.start(arguments, environment: environment)
            let started = Date()
            while process.isRunning && journalSize() < before + growth && Date().timeIntervalSince(started) < 60 {
                Thread.sleep(forTimeInterval: 0.01)
            }
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.1))
            let wasRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            moments.append(String(format: "%.2fs%@", Date().timeIntervalSince(started), wasRunning ? "" : " (had already ended)"))
        }
        let journalText = try String(contentsOfFile: journal, encoding: .utf8)
        let created = journalText.components(separatedBy: #""event":"created""#).count - 1
        let attempts = journalText.components(separatedBy: #""event":"attempt""#).count - 1
        XCTAssertGreaterThan(created, 0, "the killed runs created tickets")
        XCTAssertLessThan(created, Self.rows, "the killed runs left work to resume")
        print("after five kills: \(attempts) attempts and \(created) tickets journaled, \(attempts - created) attempts without a recorded outcome")
        let final = try BuiltBinary.run(arguments, environment: environment, timeout: 240)
        XCTAssertEqual(final.status, 0, final.stderr)
        print("killed at \(moments.joined(separator: ", ")); last run: \(final.stderr.split(separator: "\n").last ?? "")")

        let (total, distinct) = try BuiltBinary.ticketsAndDistinctMessages(at: server.url, environment: environment)
        XCTAssertEqual(total, Self.rows, "exactly one ticket per row")
        XCTAssertEqual(distinct, Self.rows, "none duplicated")

        // The last run's results account for every row: created now, or skipped as created before.
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, Self.rows)
        XCTAssertEqual(lines.filter { $0.contains(#""status":"failed""#) }.count, 0)
        let finalJournal = try String(contentsOfFile: journal, encoding: .utf8)
        print("reconciled after the kills: \(finalJournal.components(separatedBy: #""via":"reconciled""#).count - 1) tickets found instead of created again")
    }
}

extension BuiltBinary {
    /// Counts through the API, with the binary: every ticket of the sandbox at `url`, and every
    /// distinct first message among them.
    static func ticketsAndDistinctMessages(at url: URL, environment: [String: String]) throws -> (Int, Int) {
        let count = try run(["--api-url", url.absoluteString, "--login", BulkCrashTests.login, "-e", """
            local total, messages, distinct = 0, {}, 0
            for t in livechat.tickets{ order = "asc" } do
              total = total + 1
              local m = t.events[1].message
              if not messages[m] then messages[m] = true; distinct = distinct + 1 end
            end
            print(total, distinct)
            """], environment: environment, timeout: 240)
        let numbers = count.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard count.status == 0, numbers.count == 2 else {
            throw CountFailed(description: "counting the tickets failed: \(count.stdout) \(count.stderr)")
        }
        return (numbers[0], numbers[1])
    }

    struct CountFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the binary without waiting: stdout is a pipe, stderr is discarded.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = Pipe()
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}

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

        var moments: [String] = []
        for _ in 1...5 {
            let process = try BuiltBinary.start(arguments, environment: environment)
            let delay = Double.random(in: 0.3...1.5)
            Thread.sleep(forTimeInterval: delay)
            let wasRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            moments.append(String(format: "%.2fs%@", delay, wasRunning ? "" : " (had already ended)"))
        }
        let final = try BuiltBinary.run(arguments, environment: environment, timeout: 240)
        XCTAssertEqual(final.status, 0, final.stderr)
        print("killed at \(moments.joined(separator: ", ")); last run: \(final.stderr.split(separator: "\n").last ?? "")")

        // Count through the API: every ticket, and every distinct message among them.
        let count = try BuiltBinary.run(["--api-url", server.url.absoluteString, "--login", Self.login, "-e", """
            local total, messages, distinct = 0, {}, 0
            for t in livechat.tickets{ order = "asc" } do
              total = total + 1
              local m = t.events[1].message
              if not messages[m] then messages[m] = true; distinct = distinct + 1 end
            end
            print(total, distinct)
            """], environment: environment, timeout: 240)
        XCTAssertEqual(count.status, 0, count.stderr)
        XCTAssertEqual(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "\(Self.rows)\t\(Self.rows)",
                       "exactly one ticket per row, none duplicated")

        // The last run's results account for every row: created now, or skipped as created before.
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, Self.rows)
        XCTAssertEqual(lines.filter { $0.contains(#""status":"failed""#) }.count, 0)
    }
}

extension BuiltBinary {
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

import Foundation
import XCTest

/// Ctrl-C at the prompt cancels a running line that waits on a request, and the prompt goes on.
final class PromptCancelTests: XCTestCase {
    func testCtrlCCancelsARequestSlowedByTheSandbox() throws {
        // The prompt reads piped lines here (-i with a pipe); Ctrl-C is a SIGINT to the process.
        let process = Process()
        process.executableURL = BuiltBinary.url
        process.arguments = ["-i"]
        let slow = try SlowSandbox.start()
        defer { slow.stop() }
        var environment = ProcessInfo.processInfo.environment
        environment["LIVECHAT_API_URL"] = slow.url
        environment["LIVECHAT_LOGIN"] = "agent@sandbox.livechat.local"
        environment["LIVECHAT_API_KEY"] = "sandbox-demo-key"
        environment["HOME"] = FileManager.default.temporaryDirectory.path
        environment["XDG_STATE_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("lcl-state-\(UUID().uuidString)").path
        process.environment = environment
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let started = Date()
        input.fileHandleForWriting.write(Data("io.write('waiting\\n'); io.stdout:flush(); local r, e = livechat.listTickets{}; print('finished', r ~= nil)\n".utf8))
        // Wait for the line to start, then Ctrl-C while the request is in flight (it takes 30 s).
        let reader = LineCollector(output.fileHandleForReading)
        XCTAssertTrue(reader.waitFor("waiting", timeout: 20), reader.text)
        usleep(300_000)
        kill(process.processIdentifier, SIGINT)
        input.fileHandleForWriting.write(Data("print('still here', 6 * 7)\n".utf8))
        XCTAssertTrue(reader.waitFor("still here\t42", timeout: 20), reader.text)
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertFalse(reader.text.contains("finished"), "the slow request was cancelled, not waited for: \(reader.text)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 25, "returned long before the 30 s request would have")
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(stderr.contains("interrupted!"), stderr)
    }
}

/// A `livechat-lua serve` process with 5 seeded tickets; by default every request takes 30
/// seconds.
struct SlowSandbox {
    let process: Process
    let url: String

    static func start(latencyMilliseconds: Int = 30_000) throws -> SlowSandbox {
        let process = Process()
        process.executableURL = BuiltBinary.url
        process.arguments = ["serve", "--port", "0", "--latency-ms", String(latencyMilliseconds), "--seed-tickets", "5"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = LineCollector(output.fileHandleForReading)
        guard reader.waitFor("url: ", timeout: 30),
              let line = reader.text.split(separator: "\n").first(where: { $0.hasPrefix("url: ") }) else {
            process.terminate()
            throw NSError(domain: "SlowSandbox", code: 1, userInfo: [NSLocalizedDescriptionKey: "serve did not start: \(reader.text)"])
        }
        return SlowSandbox(process: process, url: String(line.dropFirst(5)))
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

/// Collects a pipe's output on a background queue, so a test can wait for a piece of text.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    init(_ handle: FileHandle) {
        DispatchQueue.global().async { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                lock.withLock { data.append(chunk) }
            }
        }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// Waits until the output contains `needle`, up to `timeout` seconds.
    func waitFor(_ needle: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text.contains(needle) { return true }
            usleep(20_000)
        }
        return text.contains(needle)
    }
}

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// A `livechat-lua serve` process run the way a user or script runs it.
final class ServeProcess {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private var stdoutData = Data()
    private var stderrData = Data()
    private let lock = NSLock()
    private(set) var url: URL!

    /// Starts `serve` with `arguments` and waits (up to 30 s) for its `url:` line.
    init(_ arguments: [String], environment: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws {
        process.executableURL = BuiltBinary.url
        process.arguments = ["serve"] + arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["LIVECHAT_SANDBOX_API_KEY", "LIVECHAT_SANDBOX_LOGIN", "LIVECHAT_SANDBOX_BEARER_TOKEN"] { env[key] = nil }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = output
        process.standardError = errors
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.lock(); self?.stdoutData.append(data); self?.lock.unlock()
        }
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.lock(); self?.stderrData.append(data); self?.lock.unlock()
        }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            if let found = stdout.split(separator: "\n").first(where: { $0.hasPrefix("url: ") }) {
                url = URL(string: String(found.dropFirst(5)))
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("serve printed no url line; stdout: \(stdout) stderr: \(stderr)", file: file, line: line)
        throw CocoaError(.fileReadUnknown)
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: stdoutData, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: stderrData, as: UTF8.self) }

    /// Sends `signal` and waits (up to 15 s) for the exit; returns the termination status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            XCTFail("serve did not stop within 15 s of signal \(signal)")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 0.1)  // let the pipes drain
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        output.fileHandleForReading.readabilityHandler = nil
        errors.fileHandleForReading.readabilityHandler = nil
    }
}

/// A minimal HTTP call through Foundation: status and body.
func httpCall(_ url: URL, method: String = "GET", login: String? = "agent@sandbox.livechat.local",
              key: String = "sandbox-demo-key", body: String? = nil, contentType: String = "application/json") throws -> (Int, [String: Any]) {
    var request = URLRequest(url: url, timeoutInterval: 30)
    request.httpMethod = method
    if let login {
        request.setValue("Basic " + Data("\(login):\(key)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
    }
    if let body {
        request.httpBody = Data(body.utf8)
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
    }
    final class Outcome: @unchecked Sendable {  // written once before the semaphore is signalled
        var result: Result<(Int, Data), Error> = .failure(URLError(.timedOut))
    }
    let done = DispatchSemaphore(value: 0)
    let outcome = Outcome()
    URLSession.shared.dataTask(with: request) { data, response, error in
        if let error { outcome.result = .failure(error) } else {
            outcome.result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
        }
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + 40)
    let (status, data) = try outcome.result.get()
    return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
}

/// End-to-end tests of the built binary's `serve` command.
final class ServeCommandTests: XCTestCase {
    private func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID()).sqlite").path
    }

    private func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    func testServePrintsURLThenLoginAndServesSeededTickets() throws {
        let serve = try ServeProcess(["--seed-tickets", "30"])
        let lines = serve.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, serve.stdout)
        XCTAssertTrue(lines[0].hasPrefix("url: http://127.0.0.1:"), lines[0])
        XCTAssertEqual(lines[1], "login: agent@sandbox.livechat.local")
        let (status, page) = try httpCall(serve.url.appendingPathComponent("tickets"))
        XCTAssertEqual(status, 200)
        XCTAssertEqual(page["total"] as? Int, 30)
        let (healthStatus, health) = try httpCall(serve.url.appendingPathComponent("health"), login: nil)
        XCTAssertEqual(healthStatus, 200)
        XCTAssertEqual(health["status"] as? String, "ok")
        XCTAssertEqual(serve.stop(), 0)
    }

    func testServeStopsCleanlyOnSIGTERMAndOnCtrlC() throws {
        for (signal, status) in [(SIGTERM, Int32(0)), (SIGINT, Int32(130))] {
            let serve = try ServeProcess([])
            XCTAssertEqual(try httpCall(serve.url.appendingPathComponent("health")).0, 200)
            XCTAssertEqual(serve.stop(signal: signal), status, "exit status after signal \(signal)")
            XCTAssertEqual(serve.process.terminationReason, .exit)
        }
    }

    func testSeedingAMillionTicketsStopsPromptlyOnCtrlCWithBoundedMemory() throws {
        let database = temporaryDatabase()
        defer { removeDatabase(database) }
        let process = Process()
        process.executableURL = BuiltBinary.url
        process.arguments = ["serve", "--seed-tickets", "1000000", "--db", database]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        Thread.sleep(forTimeInterval: 3)
        XCTAssertTrue(process.isRunning, "still seeding after 3 s")
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let peakKiB = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        XCTAssertGreaterThan(peakKiB, 0)
        XCTAssertLessThan(peakKiB, 400 * 1024, "memory while seeding, KiB")
        let interrupted = Date()
        kill(process.processIdentifier, SIGINT)
        while process.isRunning, Date().timeIntervalSince(interrupted) < 15 { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertFalse(process.isRunning, "serve ignored Ctrl-C while seeding")
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(interrupted), 5, "seconds from Ctrl-C to exit")
        XCTAssertEqual(process.terminationStatus, 130)
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertFalse(printed.contains("url:"), printed)
    }

    func testUsageErrorsExitWithStatus2AndSayWhatIsWrong() throws {
        let cases: [([String], String)] = [
            (["--seed-tickets", "1000001"], "--seed-tickets must be from 0 to 1000000"),
            (["--seed-tickets=-5"], "--seed-tickets must be from 0 to 1000000"),
            (["--latency-ms", "99999999999"], "latency must be from 0 to 600000 milliseconds"),
            (["--rate-limit", "1e-300"], "rate limit must be from 0.001 to 1000000"),
            (["--port", "99999999999999999999"], "port"),
            (["--no-such-flag"], "--no-such-flag"),
        ]
        for (arguments, message) in cases {
            let run = try BuiltBinary.run(["serve"] + arguments, timeout: 30)
            XCTAssertEqual(run.status, 2, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            XCTAssertFalse(run.stdout.contains("url:"))
        }
    }

    func testAPIKeyComesFromTheEnvironmentAndIsNeverPrinted() throws {
        let key = "env-secret-key-4711"
        let serve = try ServeProcess(["--login", "ops@example.com", "--access-log"],
                                     environment: ["LIVECHAT_SANDBOX_API_KEY": key])
        let accepted = try httpCall(serve.url.appendingPathComponent("tickets"), login: "ops@example.com", key: key)
        let demo = try httpCall(serve.url.appendingPathComponent("tickets"))
        XCTAssertEqual(serve.stop(), 0)
        XCTAssertEqual(accepted.0, 200)
        XCTAssertEqual(demo.0, 401)
        XCTAssertTrue(serve.stdout.contains("login: ops@example.com"))
        XCTAssertFalse(serve.stdout.contains(key))
        XCTAssertFalse(serve.stderr.contains(key))
    }

    func testLoginComesFromTheEnvironmentWhenNoFlagIsGiven() throws {
        let serve = try ServeProcess([], environment: ["LIVECHAT_SANDBOX_LOGIN": "env@example.com"])
        let accepted = try httpCall(serve.url.appendingPathComponent("tickets"), login: "env@example.com")
        XCTAssertEqual(serve.stop(), 0)
        XCTAssertEqual(accepted.0, 200)
        XCTAssertTrue(serve.stdout.contains("login: env@example.com"))
    }

    func testAccessLogShowsMethodPathStatusAndTimeButNoCredentials() throws {
        let serve = try ServeProcess(["--access-log"])
        _ = try httpCall(serve.url.appendingPathComponent("tickets/ZZZZZ"))
        _ = try httpCall(serve.url.appendingPathComponent("tickets"), method: "POST",
                         body: #"{"message": "Hi", "requester": {"mail": "m@example.com"}}"#)
        XCTAssertEqual(serve.stop(), 0)
        let lines = serve.stderr.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.range(of: #"^GET /tickets/ZZZZZ 404 [0-9.]+ms$"#, options: .regularExpression) != nil }, serve.stderr)
        XCTAssertTrue(lines.contains { $0.range(of: #"^POST /tickets 200 [0-9.]+ms$"#, options: .regularExpression) != nil }, serve.stderr)
        XCTAssertFalse(serve.stderr.contains("sandbox-demo-key"))
        XCTAssertFalse(serve.stderr.contains("Basic"))
    }

    func testAcknowledgedCreatesSurviveKill9() throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let serve = try ServeProcess(["--db", path])
        var ids: [String] = []
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 20) { index in
            if let (status, ticket) = try? httpCall(serve.url.appendingPathComponent("tickets"), method: "POST",
                                                     body: #"{"message": "durable \#(index)", "requester": {"mail": "d@example.com"}}"#),
               status == 200, let id = ticket["id"] as? String {
                lock.lock(); ids.append(id); lock.unlock()
            }
        }
        XCTAssertEqual(ids.count, 20)
        // SIGKILL: no graceful shutdown, no chance to flush anything after the answers.
        XCTAssertEqual(serve.stop(signal: SIGKILL), SIGKILL)
        XCTAssertEqual(serve.process.terminationReason, .uncaughtSignal)

        let restarted = try ServeProcess(["--db", path])
        for id in ids {
            let (status, ticket) = try httpCall(restarted.url.appendingPathComponent("tickets/\(id)"))
            XCTAssertEqual(status, 200, id)
            XCTAssertEqual(ticket["id"] as? String, id)
        }
        let (_, page) = try httpCall(restarted.url.appendingPathComponent("tickets"))
        XCTAssertEqual(page["total"] as? Int, 20)
        XCTAssertEqual(restarted.stop(), 0)
    }

    func testFaultFlagsReachTheServer() throws {
        let serve = try ServeProcess(["--fail-rate", "1", "--fail-status", "500"])
        let (status, body) = try httpCall(serve.url.appendingPathComponent("tickets"))
        let (healthStatus, _) = try httpCall(serve.url.appendingPathComponent("health"))
        XCTAssertEqual(serve.stop(), 0)
        XCTAssertEqual(status, 500)
        XCTAssertNotNil(body["error"] as? String)
        XCTAssertEqual(healthStatus, 200)
    }

    func testBodyLimitFlagAnswers413() throws {
        let serve = try ServeProcess(["--body-limit", "100"])
        let (status, body) = try httpCall(serve.url.appendingPathComponent("tickets"), method: "POST",
                                          body: #"{"message": "\#(String(repeating: "x", count: 200))", "requester": {"mail": "m@example.com"}}"#)
        XCTAssertEqual(serve.stop(), 0)
        XCTAssertEqual(status, 413)
        XCTAssertNotNil(body["error"] as? String)
    }

    func testInvalidFlagsAreRefusedWithAMessage() throws {
        for arguments in [["--fail-rate", "2"], ["--port", "70000"], ["--drop-rate", "-1"], ["--no-such-flag"]] {
            let run = try BuiltBinary.run(["serve"] + arguments, timeout: 30)
            XCTAssertNotEqual(run.status, 0, "\(arguments)")
            XCTAssertFalse(run.stderr.isEmpty, "\(arguments)")
            XCTAssertFalse(run.stdout.contains("url:"))
        }
    }

    func testHelpListsEveryFlag() throws {
        let run = try BuiltBinary.run(["serve", "--help"], timeout: 30)
        XCTAssertEqual(run.status, 0)
        for flag in ["--host", "--port", "--db", "--seed-tickets", "--seed", "--login", "--access-log", "--fail-rate",
                     "--fail-status", "--rate-limit", "--latency-ms", "--drop-rate", "--body-limit", "LIVECHAT_SANDBOX_API_KEY"] {
            XCTAssertTrue(run.stdout.contains(flag), flag)
        }
    }
}

extension ServeCommandTests {
    func testPortAlreadyInUseFailsWithAMessageAndNoURL() throws {
        let first = try ServeProcess([])
        let port = try XCTUnwrap(first.url.port)
        let second = try BuiltBinary.run(["serve", "--port", String(port)], timeout: 30)
        XCTAssertEqual(first.stop(), 0)
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.contains("livechat-lua serve: cannot listen on 127.0.0.1:\(port): address already in use"), second.stderr)
        XCTAssertFalse(second.stdout.contains("url:"))
    }
}

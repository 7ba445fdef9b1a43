import Foundation
import LiveChatSandbox
import XCTest

/// Runs the Lua-level tests in `Tests/lua/` through the built binary, against real sandbox
/// servers on loopback that this class starts: one healthy, and a few with injected faults for
/// the error kinds. Each script exits 0 and prints "ok N checks" when all its checks pass.
final class LuaScriptTests: XCTestCase {
    /// The servers and the environment every script gets.
    final class Fixture: @unchecked Sendable {
        var servers: [SandboxServer] = []
        var environment: [String: String] = [:]
        var garbageServer: Process?
        var home: URL!
    }

    nonisolated(unsafe) static var fixture: Fixture?

    static let luaDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("lua")

    override class func setUp() {
        super.setUp()
        let fixture = Fixture()
        fixture.home = FileManager.default.temporaryDirectory.appendingPathComponent("livechat-lua-home-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: fixture.home, withIntermediateDirectories: true)
        func start(_ configure: (inout SandboxConfiguration) -> Void) -> String {
            var configuration = SandboxConfiguration()
            configure(&configuration)
            let server = SandboxServer(configuration: configuration)
            fixture.servers.append(server)
            return blocking { try await server.start().absoluteString }
        }
        let healthy = start { $0.seedTickets = 40; $0.seed = 7 }
        let failing = start { $0.faults = FaultInjection(failureRate: 1, failureStatus: 500) }
        let limited = start { $0.faults = FaultInjection(rateLimit: 0.1) }
        let slow = start { $0.faults = FaultInjection(latencyMilliseconds: 1500) }
        fixture.environment = [
            "LIVECHAT_API_URL": healthy,
            "LIVECHAT_LOGIN": SandboxConfiguration.demoLogin,
            "LIVECHAT_API_KEY": SandboxConfiguration.demoAPIKey,
            "TEST_FAILING_URL": failing,
            "TEST_RATE_LIMITED_URL": limited,
            "TEST_SLOW_URL": slow,
            "TEST_CLOSED_URL": "http://127.0.0.1:\(closedPort())",
            "HOME": fixture.home.path,
            "XDG_CONFIG_HOME": fixture.home.appendingPathComponent("config").path,
            "XDG_STATE_HOME": fixture.home.appendingPathComponent("state").path,
        ]
        fixture.environment["TEST_GARBAGE_URL"] = startGarbageServer(fixture)
        self.fixture = fixture
    }

    override class func tearDown() {
        if let fixture {
            for server in fixture.servers { blocking { await server.stop() } }
            fixture.garbageServer?.terminate()
            try? FileManager.default.removeItem(at: fixture.home)
        }
        fixture = nil
        super.tearDown()
    }

    /// Runs an async operation to completion from synchronous test code.
    static func blocking<T>(_ operation: @escaping @Sendable () async throws -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.value = .success(try await operation()) } catch { box.value = .failure(error) }
            done.signal()
        }
        done.wait()
        return try! box.value!.get()
    }

    /// A loopback port that nothing listens on: bound, then released.
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A plain static file server answering 200 with text that is not JSON, for the protocol
    /// error kind: Python's http.server over a folder holding `tickets/GARBG`.
    static func startGarbageServer(_ fixture: Fixture) -> String {
        let root = fixture.home.appendingPathComponent("garbage")
        try? FileManager.default.createDirectory(at: root.appendingPathComponent("tickets"), withIntermediateDirectories: true)
        try? "<html>this is not the API</html>".write(to: root.appendingPathComponent("tickets/GARBG"), atomically: true, encoding: .utf8)
        let port = closedPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", root.path, String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        fixture.garbageServer = process
        // Ready when it accepts a connection (bounded wait).
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let data = try? Data(contentsOf: URL(string: "http://127.0.0.1:\(port)/tickets/GARBG")!), !data.isEmpty { break }
            usleep(100_000)
        }
        return "http://127.0.0.1:\(port)"
    }

    /// Runs one script of Tests/lua and checks it passed every check.
    func runLua(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try XCTUnwrap(Self.fixture)
        let path = Self.luaDirectory.appendingPathComponent(name).path
        let run = try BuiltBinary.run([path], environment: fixture.environment, timeout: 120)
        XCTAssertEqual(run.status, 0, "\(name) failed:\n\(run.stderr)\(run.stdout)", file: file, line: line)
        XCTAssertTrue(run.stdout.contains("ok "), "\(name) did not finish:\n\(run.stdout)\(run.stderr)", file: file, line: line)
        XCTAssertFalse(run.stdout.contains(SandboxConfiguration.demoAPIKey) || run.stderr.contains(SandboxConfiguration.demoAPIKey),
                       "the API key leaked into \(name)'s output", file: file, line: line)
    }

    func testCreateTicket() throws { try runLua("create_ticket.lua") }
    func testGetTicketAndUpdateTags() throws { try runLua("get_and_tags.lua") }
    func testListTicketsAndIteration() throws { try runLua("list_tickets.lua") }
    func testConcurrency() throws { try runLua("concurrency.lua") }
    func testJSON() throws { try runLua("json.lua") }
    func testEveryErrorKind() throws { try runLua("errors.lua") }
    func testConfiguration() throws { try runLua("config.lua") }

    func testMissingCredentialsAreAnAuthErrorThatSaysWhatToSet() throws {
        var environment = try XCTUnwrap(Self.fixture).environment
        environment["LIVECHAT_API_KEY"] = ""
        let run = try BuiltBinary.run(["-e", "local r, e = livechat.listTickets{}; print(r, e.kind, e.message)"], environment: environment)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("nil\tauth\tno API key configured: set LIVECHAT_API_KEY"), run.stdout)
    }

    func testConfigFileReadableByOthersIsRefused() throws {
        var environment = try XCTUnwrap(Self.fixture).environment
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("livechat-lua-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: config) }
        let file = config.appendingPathComponent("livechat-lua/config.json")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try #"{"apiKey": "file-secret-key-123", "login": "file@example.com"}"#.write(to: file, atomically: true, encoding: .utf8)
        environment["XDG_CONFIG_HOME"] = config.path
        environment["LIVECHAT_LOGIN"] = nil
        chmod(file.path, 0o644)
        let refused = try BuiltBinary.run(["-e", "print(1)"], environment: environment)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("others can read it; run: chmod 600"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("file-secret-key-123"))
        chmod(file.path, 0o600)
        environment["LIVECHAT_LOGIN"] = ""
        let accepted = try BuiltBinary.run(["-e", "print(livechat.config().login)"], environment: environment)
        XCTAssertEqual(accepted.status, 0, accepted.stderr)
        XCTAssertEqual(accepted.stdout, "file@example.com\n")
    }
}

/// Carries a result out of a task into synchronous test code.
final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, Error>?
}

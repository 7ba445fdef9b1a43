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

    /// A config folder holding `text` as config.json, with the given mode; the environment that uses it.
    private func configured(_ text: String, mode: mode_t = 0o600) throws -> (environment: [String: String], file: URL) {
        var environment = try XCTUnwrap(Self.fixture).environment
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("livechat-lua-config-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: config) }
        let file = config.appendingPathComponent("livechat-lua/config.json")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        chmod(file.path, mode)
        environment["XDG_CONFIG_HOME"] = config.path
        return (environment, file)
    }

    func testConfigFileReadableByOthersStopsRequestsOnly() throws {
        var (environment, file) = try configured(#"{"apiKey": "file-secret-key-123", "login": "file@example.com"}"#, mode: 0o644)
        environment["LIVECHAT_LOGIN"] = nil
        let ran = try BuiltBinary.run(["-e", "print(1)"], environment: environment)
        XCTAssertEqual(ran.status, 0, "a script that makes no request still runs")
        XCTAssertEqual(ran.stdout, "1\n")
        XCTAssertTrue(ran.stderr.contains("warning: \(file.path) holds an API key but others can read it; run: chmod 600"), ran.stderr)
        XCTAssertFalse(ran.stderr.contains("file-secret-key-123"))
        let request = try BuiltBinary.run(["-e", "local r, err = livechat.listTickets{}; print(err.kind, err.message)"], environment: environment)
        XCTAssertTrue(request.stdout.hasPrefix("configuration\t\(file.path) holds an API key but others can read it"), request.stdout)
        XCTAssertFalse(request.stdout.contains("file-secret-key-123") || request.stderr.contains("file-secret-key-123"))
        chmod(file.path, 0o600)
        environment["LIVECHAT_LOGIN"] = ""
        let accepted = try BuiltBinary.run(["-e", "print(livechat.config().login)"], environment: environment)
        XCTAssertEqual(accepted.status, 0, accepted.stderr)
        XCTAssertEqual(accepted.stdout, "file@example.com\n")
        XCTAssertEqual(accepted.stderr, "")
    }

    func testConfigFileProblemsNameTheFileTheSettingAndWhere() throws {
        let cases: [(String, String)] = [
            ("{\n  \"login\": \"a@b.c\",\n  \"apiurl\": \"http://127.0.0.1:1\"\n}", ":3:3: unknown setting 'apiurl' (did you mean 'apiUrl'?); known: apiUrl, login, apiKey"),
            ("{\"login\": 5}", ":1:2: 'login' must be a string, got number"),
            ("{\"apiUrl\": [\"x\"]}", ":1:2: 'apiUrl' must be a string, got array"),
            ("{\n  \"login\": \"a@b.c\",\n  oops\n}", ": not valid JSON (line 3, column 3: "),
            ("[\"login\"]", ": the config file must hold a JSON object"),
        ]
        for (text, message) in cases {
            let (environment, file) = try configured(text)
            for arguments in [["-v"], ["--help"], ["-e", "print(1)"], ["--sandbox", "-e", "assert(livechat.listTickets{})"]] {
                let run = try BuiltBinary.run(arguments, environment: environment)
                XCTAssertEqual(run.status, 0, "\(arguments) with \(text): \(run.stderr)")
            }
            let run = try BuiltBinary.run(["-e", "local r, err = livechat.listTickets{}; print(err.kind); print(err.message)"], environment: environment)
            XCTAssertTrue(run.stderr.contains("livechat-lua: warning: \(file.path)\(message)"), "\(text): \(run.stderr)")
            XCTAssertTrue(run.stdout.hasPrefix("configuration\n\(file.path)\(message)"), "\(text): \(run.stdout)")
            XCTAssertFalse(run.stderr.contains("DecodingError") || run.stderr.contains("Swift."), run.stderr)
        }
    }

    func testSandboxOverridesAreToldAndItsKeyGoesNowhereElse() throws {
        var environment = try XCTUnwrap(Self.fixture).environment
        environment["LIVECHAT_API_KEY"] = "a-real-looking-key-0000"
        let run = try BuiltBinary.run(["--sandbox", "--api-url", "http://127.0.0.1:9", "-e", """
            assert(livechat.listTickets{})
            livechat.configure{ apiUrl = os.getenv("LIVECHAT_API_URL") }
            local r, err = livechat.listTickets{}
            print(err.kind, err.message, err.status)
            """], environment: environment)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("warning: --sandbox overrides --api-url, LIVECHAT_API_URL, LIVECHAT_LOGIN, LIVECHAT_API_KEY"), run.stderr)
        XCTAssertEqual(run.stderr.components(separatedBy: "warning:").count, 2, "one line: \(run.stderr)")
        // The sandbox's demo key was given with the sandbox's URL: it is not sent to the other server.
        XCTAssertTrue(run.stdout.hasPrefix("auth\tthe API key given for http://127.0.0.1:"), run.stdout)
        XCTAssertTrue(run.stdout.contains("is not sent to \(environment["LIVECHAT_API_URL"]!)"), run.stdout)
        XCTAssertTrue(run.stdout.hasSuffix("\tnil\n"), "refused before anything was sent: \(run.stdout)")
        XCTAssertFalse(run.stdout.contains("a-real-looking-key-0000") || run.stderr.contains("a-real-looking-key-0000"))
    }
}

/// Carries a result out of a task into synchronous test code.
final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, Error>?
}

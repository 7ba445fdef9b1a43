import Foundation
import LiveChatSandbox
import LuaHost
import XCTest
@testable import LiveChatLua

/// A real sandbox on loopback and a real Lua state with the `livechat` module pointed at it.
final class BulkHarness {
    let server: SandboxServer
    let url: URL
    let state: LuaState
    let module: LiveChatModule
    let directory: URL

    /// The key the harness's sandbox accepts: distinctive, so a test can look for it in files.
    static let apiKey = "bulk-test-key-7f3a9c"

    init(faults: FaultInjection = .none, timeout: Double? = nil) throws {
        var configuration = SandboxConfiguration()
        configuration.apiKey = Self.apiKey
        configuration.faults = faults
        configuration.seed = 42
        let server = SandboxServer(configuration: configuration)
        self.server = server
        self.url = try blocking { try await server.start() }
        state = try LuaState()
        var settings = ConnectionSettings(apiURL: url.absoluteString, login: configuration.login, apiKey: Self.apiKey)
        settings.requestTimeout = timeout
        module = try LiveChatModule.install(in: state, settings: settings)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Runs a chunk as the scheduler's main coroutine with arguments; returns its results.
    func run(_ chunk: String, _ arguments: LuaValue...) throws -> [LuaValue] {
        let base = state.top
        try state.load(chunk, name: "=test")
        for argument in arguments { try state.push(argument) }
        try state.scheduler.run(arguments: Int32(arguments.count))
        return try state.popResults(above: base)
    }

    var ticketCount: Int {
        get throws { try blocking { [server] in try await server.ticketCount } }
    }

    func stop() {
        let module = self.module, server = self.server
        try? blocking { await module.shutdown(); await server.stop() }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Runs async work to completion from synchronous test code.
func blocking<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await operation()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// `n` distinct, valid createTicket rows as a Lua array, each with an `id` field.
func sampleRows(_ n: Int, prefix: String = "row") -> LuaValue {
    var rows: [LuaValue] = []
    for i in 1...max(n, 1) where i <= n {
        var row = LuaTable()
        row["id"] = .string("\(prefix)-\(i)")
        row["message"] = .string("Bulk message \(prefix) \(i): the parcel has not arrived")
        row["requesterEmail"] = .string("customer\(i % 50)@example.com")
        row["requesterName"] = .string("Customer \(i)")
        row["subject"] = .string("Order \(i)")
        rows.append(.table(row))
    }
    return .table(LuaTable(sequence: rows))
}

/// Carries a result out of a task.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

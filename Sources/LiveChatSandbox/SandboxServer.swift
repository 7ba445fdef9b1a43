import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A LiveChat-compatible tickets server on loopback: the v2 tickets API over SQLite.
/// `start()` binds and serves; `stop()` shuts down gracefully.
public final class SandboxServer: Sendable {
    /// The configuration the server was made with.
    public let configuration: SandboxConfiguration

    private enum Phase {
        case idle
        case starting
        case running(Running)
        case stopped
    }

    private struct Running: @unchecked Sendable {  // ServiceGroup is an actor-safe final class
        var url: URL
        var store: TicketStore
        var group: ServiceGroup
        var task: Task<Void, Never>
    }

    private let phase = Mutex(Phase.idle)

    public init(configuration: SandboxConfiguration) {
        self.configuration = configuration
    }

    /// Opens the database, seeds it if asked and it is empty, binds, and returns the base URL
    /// (`http://127.0.0.1:<bound port>`) once the server accepts connections. Starts once.
    public func start() async throws -> URL {
        try phase.withLock { phase in
            guard case .idle = phase else { throw SandboxError.alreadyStarted }
            phase = .starting
        }
        do {
            let running = try await launch()
            let stoppedMeanwhile = phase.withLock { phase -> Bool in
                if case .starting = phase { phase = .running(running); return false }
                return true
            }
            if stoppedMeanwhile { await shutDown(running) }
            return running.url
        } catch {
            phase.withLock { $0 = .idle }
            throw error
        }
    }

    /// Stops accepting connections, lets requests in flight finish, closes the database.
    /// Safe to call more than once, and before `start()`.
    public func stop() async {
        let running = phase.withLock { phase -> Running? in
            defer { phase = .stopped }
            if case .running(let running) = phase { return running }
            return nil
        }
        if let running { await shutDown(running) }
    }

    /// How many tickets the store holds.
    public var ticketCount: Int {
        get async throws {
            guard case .running(let running) = phase.withLock({ $0 }) else { throw SandboxError.notRunning }
            return try await running.store.count()
        }
    }

    /// The base URL while running.
    public var url: URL? {
        if case .running(let running) = phase.withLock({ $0 }) { return running.url }
        return nil
    }

    private func launch() async throws -> Running {
        let configuration = self.configuration
        var problems = configuration.faults.problems
        if !(0...SandboxConfiguration.maximumSeedTickets).contains(configuration.seedTickets) {
            problems.append("seedTickets must be from 0 to \(SandboxConfiguration.maximumSeedTickets)")
        }
        guard problems.isEmpty else { throw SandboxError.invalidConfiguration(problems.joined(separator: "; ")) }
        let agents = AgentDirectory()
        let store = try TicketStore(path: configuration.databasePath, agents: agents)
        do {
            let service = SandboxService(configuration: configuration, store: store, agents: agents)
            if configuration.seedTickets > 0, try await store.count() == 0 {
                // A stop (the task cancelled by SIGINT) is heard between two batches.
                try await service.seed()
            }
            let quiet = Logger(label: "LiveChatSandbox", factory: { _ in SwiftLogNoOpLogHandler() })
            let bound = OnceResult<Int>()
            let app = Application(
                router: service.router(),
                server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()])),
                configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
                onServerRunning: { channel in bound.succeed(channel.localAddress?.port ?? 0) },
                logger: quiet)
            var groupConfiguration = ServiceGroupConfiguration(services: [app], logger: quiet)
            groupConfiguration.maximumGracefulShutdownDuration = .seconds(5)
            let group = ServiceGroup(configuration: groupConfiguration)
            let task = Task {
                do {
                    try await group.run()
                    bound.fail(SandboxError.notRunning)
                } catch {
                    bound.fail(error)
                }
            }
            let port: Int
            do {
                port = try await bound.value
            } catch {
                task.cancel()
                await task.value
                if let io = error as? IOError {
                    throw SandboxError.cannotListen(
                        "cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(io.errnoCode)).lowercased())")
                }
                throw error
            }
            let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
            return Running(url: URL(string: "http://\(host):\(port)")!, store: store, group: group, task: task)
        } catch {
            try? store.close()
            throw error
        }
    }

    private func shutDown(_ running: Running) async {
        await running.group.triggerGracefulShutdown()
        await running.task.value
        try? running.store.close()
    }
}

/// Why the sandbox cannot do what was asked.
public enum SandboxError: Error, CustomStringConvertible {
    case alreadyStarted
    case notRunning
    case invalidConfiguration(String)
    /// The address could not be bound (in use, not this machine's, not allowed): said in words.
    case cannotListen(String)

    public var description: String {
        switch self {
        case .alreadyStarted: return "the sandbox server has already been started"
        case .notRunning: return "the sandbox server is not running"
        case .invalidConfiguration(let problems): return "invalid sandbox configuration: \(problems)"
        case .cannotListen(let reason): return reason
        }
    }
}

/// A value that arrives once, from whichever of success or failure comes first.
private final class OnceResult<Value: Sendable>: Sendable {
    private let state = Mutex<(result: Result<Value, any Error>?, waiter: CheckedContinuation<Value, any Error>?)>((nil, nil))

    func succeed(_ value: Value) { complete(.success(value)) }
    func fail(_ error: any Error) { complete(.failure(error)) }

    var value: Value {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let result = state.withLock { state -> Result<Value, any Error>? in
                    if let result = state.result { return result }
                    state.waiter = continuation
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }

    private func complete(_ result: Result<Value, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }
}

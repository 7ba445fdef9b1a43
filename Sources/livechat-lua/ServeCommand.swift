import ArgumentParser
import Foundation
import LiveChatSandbox
import UnixSignals

/// `livechat-lua serve`: the LiveChat-compatible sandbox server alone, for other clients.
/// Prints `url: …` and `login: …` (one line each, flushed), serves until SIGINT or SIGTERM,
/// then shuts down gracefully (exit status 130 after SIGINT, 0 after SIGTERM).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "livechat-lua serve",
        abstract: "Run the LiveChat-compatible sandbox server (the v2 tickets API over SQLite).",
        discussion: """
            The API key is read from LIVECHAT_SANDBOX_API_KEY (an optional OAuth-style token from \
            LIVECHAT_SANDBOX_BEARER_TOKEN); without it the sandbox accepts its public demo key, \
            "\(SandboxConfiguration.demoAPIKey)". The login defaults to LIVECHAT_SANDBOX_LOGIN, \
            then to the demo login. Keys are never printed or logged.

            The admin API, under /__sandbox/ with the same credentials, for testing scripts:
              GET    /__sandbox/requests[?method=POST&path=/tickets]  the request journal
                     (method, path, query, body with keys redacted, status, time) and a count;
                     a path ending in * is a prefix; DELETE empties it
              POST   /__sandbox/reset[?seeded=1]     no tickets, or back to the seeded ones
              GET    /__sandbox/faults               the faults in force
              PUT    /__sandbox/faults               {"failRate", "failStatus", "latencyMs",
                     "dropRate", "lostAnswerRate", "rateLimit"}: the next requests' faults
              POST   /__sandbox/snapshot[?name=N]    keep the tickets as they are
              POST   /__sandbox/restore/N            bring them back
            From Lua: livechat.sandbox.requests{method =, path =}, .clearRequests(),
            .reset{seeded = true}, .faults{…}, .snapshot(name), .restore(name)
            (examples/sandbox_test.lua).

            Exit status: 0 after SIGTERM, 130 after Ctrl-C (SIGINT), 1 when the server cannot \
            start, 2 for a usage error.
            """)

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free one.")
    var port = 0

    @Option(name: .customLong("db"), help: "The SQLite database file (created if missing); in memory without it.")
    var databasePath: String?

    @Option(help: "Sample tickets to add when the database is empty (at most 1000000).")
    var seedTickets = 0

    @Option(help: "The seed of the sample tickets and of fault injection.")
    var seed: UInt64 = 1

    @Option(help: "The agent login accepted for HTTP Basic authentication.")
    var login: String?

    @Flag(help: "Log each request (method, path, status, time) to stderr.")
    var accessLog = false

    @Option(help: "The share of API requests, 0 to 1, answered with --fail-status.")
    var failRate: Double = 0

    @Option(help: "The status of injected failures.")
    var failStatus = 503

    @Option(help: "Requests per second allowed; beyond it, 429 with Retry-After.")
    var rateLimit: Double?

    @Option(help: "Milliseconds added to every API request.")
    var latencyMs = 0

    @Option(help: "The share of API requests, 0 to 1, whose connection is closed without an answer.")
    var dropRate: Double = 0

    @Option(help: "The share of creates and tag updates, 0 to 1, made and then not answered (the connection closes).")
    var lostAnswerRate: Double = 0

    @Option(help: "The largest request body accepted, in bytes; larger ones get 413.")
    var bodyLimit = 1 << 20

    /// The entry point `main.swift` calls with the arguments after `serve`; returns the exit
    /// status: 0 after SIGTERM, 130 after Ctrl-C (SIGINT), 1 when the server cannot start, 2 for
    /// a usage error. It shadows ArgumentParser's synchronous `main(_: [String]?)`, which
    /// overload resolution picks there and which refuses an async command: this one parses, runs
    /// `run()` on a task and waits for it.
    static func main(_ arguments: [String]) -> Int32 {
        func usage(_ error: Error) -> Int32 {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return 0
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            return 2
        }
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            return usage(error)
        }
        guard let serve = command as? ServeCommand else {
            // `--help` and the like parse to a command of ArgumentParser's own.
            do { try command.run() } catch { return usage(error) }
            return 0
        }
        final class Status: @unchecked Sendable { var code: Int32 = 0 }
        let status = Status()
        let finished = DispatchSemaphore(value: 0)
        Task {
            status.code = await serve.serve()
            finished.signal()
        }
        finished.wait()
        return status.code
    }

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (0...SandboxConfiguration.maximumSeedTickets).contains(seedTickets) else {
            throw ValidationError("--seed-tickets must be from 0 to \(SandboxConfiguration.maximumSeedTickets)")
        }
        guard bodyLimit > 0 else { throw ValidationError("--body-limit must be positive") }
        let problems = faults.problems
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
    }

    private var faults: FaultInjection {
        FaultInjection(failureRate: failRate, failureStatus: failStatus, rateLimit: rateLimit,
                       latencyMilliseconds: latencyMs, dropRate: dropRate,
                       lostAnswerRate: lostAnswerRate)
    }

    /// The server's configuration from the flags, then the environment, then the defaults.
    func sandboxConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) -> SandboxConfiguration {
        var configuration = SandboxConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.databasePath = databasePath
        configuration.seedTickets = seedTickets
        configuration.seed = seed
        configuration.faults = faults
        configuration.bodyLimit = bodyLimit
        configuration.accessLog = accessLog
        if let login = login ?? environment["LIVECHAT_SANDBOX_LOGIN"].flatMap({ $0.isEmpty ? nil : $0 }) {
            configuration.login = login
        }
        if let key = environment["LIVECHAT_SANDBOX_API_KEY"], !key.isEmpty { configuration.apiKey = key }
        if let token = environment["LIVECHAT_SANDBOX_BEARER_TOKEN"], !token.isEmpty { configuration.bearerToken = token }
        return configuration
    }

    /// Serves until SIGINT or SIGTERM; returns the exit status. A signal while the server starts
    /// (seeding a large store) stops it there.
    func serve() async -> Int32 {
        let configuration = sandboxConfiguration()
        // Trap the stop signals before starting, so that an early one still stops gracefully.
        let stopSignals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let server = SandboxServer(configuration: configuration)
        let starting = Task { try await server.start() }
        let stopped = Task { () -> Int32 in
            for await signal in stopSignals {
                starting.cancel()
                return signal == .sigint ? 130 : 0
            }
            return 0
        }
        let url: URL
        do {
            url = try await starting.value
        } catch {
            if starting.isCancelled {
                FileHandle.standardError.write(Data("livechat-lua serve: stopped before the sandbox started\n".utf8))
                await server.stop()
                return await stopped.value
            }
            // A start failure (port taken, unwritable database) is not a usage error: no usage text.
            let reason = error is SandboxError ? "\(error)" : "cannot start the sandbox on \(host):\(port): \(error)"
            FileHandle.standardError.write(Data("livechat-lua serve: \(reason)\n".utf8))
            stopped.cancel()
            return 1
        }
        print("url: \(url.absoluteString)")
        print("login: \(configuration.login)")
        fflush(stdout)
        let code = await stopped.value
        await server.stop()
        return code
    }
}

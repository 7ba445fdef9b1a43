import Foundation
import LiveChatLua
import LiveChatSandbox

/// `--sandbox`: a sandbox server in this process, on a free loopback port, seeded with sample
/// tickets, and the connection settings that point the client at it.
enum EmbeddedSandbox {
    /// How many sample tickets a new user's first run sees.
    static let sampleTickets = 60

    /// Starts the server and returns the settings to reach it; the server lives as long as the
    /// process.
    static func start() throws -> ConnectionSettings {
        var configuration = SandboxConfiguration()
        configuration.seedTickets = sampleTickets
        let server = SandboxServer(configuration: configuration)
        final class Result: @unchecked Sendable { var value: Swift.Result<URL, Error>? }
        let result = Result()
        let started = DispatchSemaphore(value: 0)
        Task {
            do { result.value = .success(try await server.start()) } catch { result.value = .failure(error) }
            started.signal()
        }
        started.wait()
        let url = try result.value!.get()
        servers.append(server)
        FileHandle.standardError.write(Data("livechat-lua: sandbox running at \(url.absoluteString) (login \(configuration.login), \(sampleTickets) sample tickets)\n".utf8))
        return ConnectionSettings(apiURL: url.absoluteString, login: configuration.login, apiKey: configuration.apiKey)
    }

    /// Keeps the servers alive until the process ends.
    nonisolated(unsafe) private static var servers: [SandboxServer] = []
}

import ArgumentParser

/// `livechat-lua serve`: the sandbox server alone (built by the sandbox work).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve")
    func run() async throws {
        throw ValidationError("serve is not built yet")
    }
}

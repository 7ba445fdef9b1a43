/// The agents the sandbox knows by name, so that `assignee.name` and event authors read naturally.
/// Logins it does not know get a name made from the login's local part ("sam.lee@x.com" → "Sam Lee").
struct AgentDirectory: Sendable {
    private let names: [String: String]

    /// The sandbox's roster; the first entry is the demo account. Jane and John Doe are the agents
    /// of the official documentation's sample ticket.
    static let roster: [Agent] = [
        Agent(id: SandboxConfiguration.demoLogin, name: "Alex Sandbox"),
        Agent(id: "jane.doe@mycompany.com", name: "Jane Doe"),
        Agent(id: "john.doe@mycompany.com", name: "John Doe"),
        Agent(id: "priya.shah@sandbox.livechat.local", name: "Priya Shah"),
        Agent(id: "tomas.novak@sandbox.livechat.local", name: "Tomáš Novák"),
        Agent(id: "li.wei@sandbox.livechat.local", name: "Li Wei"),
        Agent(id: "sam.okafor@sandbox.livechat.local", name: "Sam Okafor"),
    ]

    init(agents: [Agent] = AgentDirectory.roster) {
        var names: [String: String] = [:]
        for agent in agents { names[agent.id.lowercased()] = agent.name }
        self.names = names
    }

    /// The agent with this login, named from the roster or from the login itself.
    func agent(_ login: String) -> Agent {
        if let name = names[login.lowercased()] { return Agent(id: login, name: name) }
        let local = login.split(separator: "@").first.map(String.init) ?? login
        let words = local.split(whereSeparator: { $0 == "." || $0 == "_" || $0 == "-" || $0 == "+" })
        let name = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        return Agent(id: login, name: name.isEmpty ? login : name)
    }
}

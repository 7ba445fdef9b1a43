import Foundation
@_spi(LiveChatTools) import LiveChat
import LuaHost
import Synchronization

/// The `livechat` Lua module: the tickets API for scripts, each call parking its coroutine while
/// the Swift client works, plus `spawn`, `map`, `sleep` and the `tickets` iterator.
public final class LiveChatModule {
    unowned let state: LuaState
    /// Settings from the config file, environment and command line.
    public var baseSettings: ConnectionSettings {
        didSet {
            secrets.add(baseSettings.apiKey)
            for secret in baseSettings.proxySecrets() { secrets.add(secret) }
        }
    }
    /// Settings made by `livechat.configure{…}`, which take precedence.
    var configured = ConnectionSettings()
    private let clients = ClientPool()

    /// Installs `livechat` and `json` into a state. `settings` are the config file, environment
    /// and command line, already merged.
    @discardableResult
    public static func install(in state: LuaState, settings: ConnectionSettings) throws -> LiveChatModule {
        let module = LiveChatModule(state: state, settings: settings)
        try JSONModule.install(in: state)
        var functions = try state.scheduler.taskFunctions()
        functions["createTicket"] = module.createTicket
        functions["getTicketById"] = module.getTicketById
        functions["listTickets"] = module.listTickets
        functions["updateTicketTags"] = module.updateTicketTags
        functions["configure"] = module.configure
        functions["config"] = module.config
        functions["_sandbox"] = module.sandboxAdmin
        functions["_help"] = LiveChatModule.helpText
        functions["_describedFunctions"] = { _ in
            var table = LuaTable()
            for function in APIDescription.livechat.functions {
                table[function.name] = .string(LuaString(function.signature))
            }
            return .value(.table(table))
        }
        functions["now"] = { _ in .value(.number(Date().timeIntervalSince1970)) }
        let bulk = CreateTicketsFunctions(module: module)
        functions.merge(bulk.functions) { $1 }
        try CSVModule.install(in: state)
        try state.registerModule("livechat", functions: functions, values: ["version": .string(LiveChatModule.version)])
        try Prelude.run(in: state)
        // Kept alive as long as the state: its functions refer to them unowned.
        state.extensions[LiveChatModule.self] = module
        state.extensions[CreateTicketsFunctions.self] = bulk
        return module
    }

    public static let version = "0.1.0"

    init(state: LuaState, settings: ConnectionSettings) {
        self.state = state
        self.baseSettings = settings
        secrets.add(settings.apiKey)
        for secret in settings.proxySecrets() { secrets.add(secret) }
    }

    /// Every API key given to this module, for the prompt's history and every message.
    public let secrets = KnownSecrets()

    /// Shuts every client down (their connection pools); call before the process ends.
    public func shutdown() async {
        await clients.shutdownAll()
    }

    /// The settings in force for a call with its own overrides.
    func settings(_ overrides: ConnectionSettings.Overrides) -> ConnectionSettings {
        baseSettings.overridden(by: configured).overridden(by: overrides)
    }

    /// Asks a person for the API key of a login, when a request needs one and none is
    /// configured; nil when they give none. The command line sets it when standard input is a
    /// terminal (the key is read with echo off); scripts run from cron never wait on it.
    /// `url` is given when a key was configured for another URL: the person is told which
    /// URL this key is for.
    public var askForAPIKey: ((_ login: String, _ url: String?) -> String?)?
    /// Keys given to `askForAPIKey`, by login: asked once, forgotten when the service refuses.
    let enteredKeys = EnteredKeys()

    /// The settings for a request: `settings(overrides)`, plus the key entered for the login
    /// when none is configured (asking for it if need be).
    func requestSettings(_ overrides: ConnectionSettings.Overrides) -> ConnectionSettings {
        var settings = self.settings(overrides)
        secrets.add(overrides.apiKey)
        // A key bound to another URL is not sent; at a terminal, the person is asked for this
        // URL's key instead, told which URL it is for.
        let withheld = settings.withheldKeyURL != nil
        if askForAPIKey != nil { settings = settings.withoutWithheldKey }
        guard settings.apiKey?.isEmpty ?? true, let login = settings.login, !login.isEmpty else { return settings }
        let target = settings.apiURL ?? LiveChatConfiguration.defaultAPIURL
        if let key = enteredKeys[login, target] {
            settings.apiKey = key
            settings.keyURL = target
        } else if let ask = askForAPIKey, let key = ask(login, withheld ? target : nil), !key.isEmpty {
            secrets.add(key)
            enteredKeys[login, target] = key
            settings.apiKey = key
            settings.keyURL = target
        }
        return settings
    }

    // MARK: - Requests

    /// Runs one API request for a host function: the coroutine parks until it completes; the
    /// result is converted to Lua data off the Lua thread.
    private func request<Result: Encodable & Sendable>(
        _ args: LuaArguments, _ overrides: ConnectionSettings.Overrides,
        _ operation: @escaping @Sendable (LiveChatClient) async throws -> Result
    ) -> LuaReturn {
        let client: LiveChatClient
        let settings = requestSettings(overrides)
        let enteredKeys = self.enteredKeys
        let secrets = self.secrets
        do {
            client = try self.client(for: settings)
        } catch {
            return immediate(args, ErrorObject.outcome(error))
        }
        return state.scheduler.suspend(args) {
            do {
                let result = try await operation(client)
                return .values([try LuaValue(encoding: result)])
            } catch let error as LiveChatError {
                enteredKeys.forgetIfRefused(error, settings: settings)
                return ErrorObject.outcome(error.redacting(secrets.all))
            } catch is CancellationError {
                return ErrorObject.outcome(LiveChatError(kind: .cancelled, message: "the request was cancelled"))
            } catch {
                return ErrorObject.outcome(LiveChatError(kind: .protocol, message: "\(error)"))
            }
        }
    }

    /// The client for settings, or the error a call returns (no credentials, a bad URL).
    func client(for settings: ConnectionSettings) throws(LiveChatError) -> LiveChatClient {
        do {
            return try clients.client(for: settings)
        } catch let error as LiveChatError {
            throw error.redacting(secrets.all)
        } catch {
            throw LiveChatError(kind: .configuration, message: "\(error)").redacting(secrets.all)
        }
    }

    /// Returns an outcome at once, without parking.
    private func immediate(_ args: LuaArguments, _ outcome: LuaOutcome) -> LuaReturn {
        guard case .results(let push) = outcome else { return .none }
        do { return .pushed(try push(args.stack)) } catch { return .error("\(error)") }
    }

    /// Reads argument 1 as a table of the given fields, or says why not.
    private func fields(_ args: LuaArguments, _ allowed: Set<String>) throws(TicketArguments.Problem) -> TicketArguments {
        let value: LuaValue
        do { value = try args.value(1) } catch { throw TicketArguments.Problem(message: (error as? LuaError)?.message ?? "\(error)") }
        if case .nil = value { throw TicketArguments.Problem(message: "table expected, got \(args.typeName(1))") }
        return try TicketArguments(value, allowed: allowed)
    }

    /// `livechat.createTicket{message =, requesterEmail =, …}` → ticket, or nil and an error.
    lazy var createTicket: LuaHostFunction = { [unowned self] args in
        do {
            let fields = try self.fields(args, TicketArguments.createFields)
            let request = try fields.createRequest()
            return self.request(args, try fields.connectionOverrides()) { try await $0.createTicket(request) }
        } catch {
            return .argumentError(1, TicketArguments.message(of: error))
        }
    }

    /// `livechat.getTicketById(id)` or `livechat.getTicketById{ticketId = id}`.
    lazy var getTicketById: LuaHostFunction = { [unowned self] args in
        var overrides = ConnectionSettings.Overrides()
        let id: String
        if let text = args.string(1) {
            id = text
        } else if args.isTable(1) {
            do {
                let fields = try self.fields(args, ["ticketId"])
                id = try fields.requiredString("ticketId")
                overrides = try fields.connectionOverrides()
            } catch {
                return .argumentError(1, TicketArguments.message(of: error))
            }
        } else {
            return .argumentError(1, "string or table expected, got \(args.typeName(1))")
        }
        guard !id.trimmingCharacters(in: .whitespaces).isEmpty else { return .argumentError(1, "ticket id must not be empty") }
        return self.request(args, overrides) { try await $0.ticket(id: id) }
    }

    /// `livechat.listTickets{status =, page =, …}` → `{tickets =, total =, pages =}`.
    lazy var listTickets: LuaHostFunction = { [unowned self] args in
        do {
            let fields = args.isNil(1) ? try TicketArguments(.table(LuaTable()), allowed: []) : try self.fields(args, TicketArguments.listFields)
            let query = try fields.listQuery()
            return self.request(args, try fields.connectionOverrides()) { try await $0.listTickets(query) }
        } catch {
            return .argumentError(1, TicketArguments.message(of: error))
        }
    }

    /// `livechat.updateTicketTags(id, {"vip", …})` → the updated ticket.
    lazy var updateTicketTags: LuaHostFunction = { [unowned self] args in
        guard let id = args.string(1), !id.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .argumentError(1, "ticket id expected, got \(args.typeName(1))")
        }
        guard case .table(let table)? = try? args.value(2), table.fields.isEmpty else {
            return .argumentError(2, "array of strings expected, got \(args.typeName(2))")
        }
        var tags: [String] = []
        for (i, item) in table.sequence.enumerated() {
            guard let tag = item.stringValue else {
                return .argumentError(2, "array of strings expected, got \(item.typeName) at [\(i + 1)]")
            }
            tags.append(tag)
        }
        let finalTags = tags
        return self.request(args, .init()) { try await $0.updateTicketTags(id: id, tags: finalTags) }
    }

    /// `_help([name])`, behind the global `help` (the prelude): the overview, a function's or a
    /// shape's help by name (`createTicket`, `livechat.createTicket`, `livechat.Ticket`), or
    /// `nil, message` naming the closest known name.
    static let helpText: LuaHostFunction = { args in
        let description = APIDescription.livechat
        guard let name = args.string(1) else { return .value(.string(LuaString(description.overview()))) }
        if let function = description.function(named: name) { return .value(.string(LuaString(description.help(for: function)))) }
        if let shape = description.shape(named: name) ?? description.shape(named: "livechat." + name) {
            return .value(.string(LuaString(description.help(for: shape))))
        }
        let known = Set(description.functions.flatMap { [$0.name, $0.shortName] } + description.shapes.map(\.name))
        let suggestion = TicketArguments.closest(to: name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
        return .values([.nil, .string(LuaString("no help for '\(name)'\(suggestion); help() lists what there is"))])
    }

    /// `_sandbox(operation, argument)`, behind `livechat.sandbox.*` (the prelude): the sandbox's
    /// admin API at the API URL in force, for a script's own tests.
    lazy var sandboxAdmin: LuaHostFunction = { [unowned self] args in self.sandboxCall(args) }

    private func sandboxCall(_ args: LuaArguments) -> LuaReturn {
        guard let operation = args.string(1) else { return .argumentError(1, "operation expected") }
        let argument = (try? args.value(2)) ?? .nil
        func query(_ pairs: [(String, String?)]) -> String {
            var allowed = CharacterSet.urlQueryAllowed
            allowed.remove(charactersIn: "&=+")
            return pairs.compactMap { key, value in
                value.map { "\(key)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" }
            }.joined(separator: "&")
        }
        let call: @Sendable (LiveChatClient) async throws -> JSONValue
        switch operation {
        case "requests":
            let filter = argument.tableValue
            let q = query([("method", filter?["method"].stringValue), ("path", filter?["path"].stringValue)])
            call = { try await $0.sandboxAdmin(method: "GET", path: "requests", query: q) }
        case "clearRequests":
            call = { try await $0.sandboxAdmin(method: "DELETE", path: "requests") }
        case "reset":
            let seeded = argument.tableValue?["seeded"] == .boolean(true)
            call = { try await $0.sandboxAdmin(method: "POST", path: "reset", query: seeded ? "seeded=1" : "") }
        case "faults":
            if case .table(let table) = argument {
                // An object even when empty (an empty Lua table would be written as `[]`).
                var settings: [String: JSONValue] = [:]
                for (key, value) in table.fields {
                    guard let name = key.stringValue, let setting = try? JSONValue(encoding: value) else {
                        return .argumentError(2, "fault settings expected, such as {failRate = 0.5}")
                    }
                    settings[name] = setting
                }
                let body = JSONValue.object(settings)
                call = { try await $0.sandboxAdmin(method: "PUT", path: "faults", body: body) }
            } else {
                call = { try await $0.sandboxAdmin(method: "GET", path: "faults") }
            }
        case "snapshot", "restore":
            let name = argument.stringValue ?? "default"
            let q = query([("name", name)])
            let encoded = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name
            if operation == "snapshot" {
                call = { client in try await client.sandboxAdmin(method: "POST", path: "snapshot", query: q) }
            } else {
                call = { client in try await client.sandboxAdmin(method: "POST", path: "restore/" + encoded) }
            }
        default:
            return .argumentError(1, "unknown sandbox operation '\(operation)'")
        }
        return request(args, .init(), call)
    }

    /// `livechat.configure{apiUrl =, login =, apiKey =, timeout =, retries =}`: settings for
    /// later calls.
    lazy var configure: LuaHostFunction = { [unowned self] args in
        do {
            let fields = try self.fields(args, ["timeout", "retries"])
            let overrides = try fields.connectionOverrides()
            self.secrets.add(overrides.apiKey)
            var next = self.configured.overridden(by: overrides)
            switch fields.raw("timeout") {
            case .nil: break
            case let value:
                guard let seconds = value.numberValue else {
                    throw TicketArguments.Problem(message: "field 'timeout' expected a number of seconds, got \(TicketArguments.describe(value: value))")
                }
                if let problem = ConnectionSettings.timeoutProblem(seconds, "field 'timeout'") {
                    throw TicketArguments.Problem(message: "\(problem), got \(value.numberText ?? "")")
                }
                next.requestTimeout = seconds
            }
            if let retries = try fields.integer("retries") {
                guard (0...20).contains(retries) else {
                    throw TicketArguments.Problem(message: "field 'retries' expected an integer from 0 to 20, got \(retries)")
                }
                next.retries = retries
            }
            if let url = overrides.apiURL {
                var probe = LiveChatConfiguration(apiURL: url, login: "-", apiKey: "-")
                probe.allowInsecureHTTP = next.allowInsecureHTTP || self.baseSettings.allowInsecureHTTP
                do { _ = try probe.validatedBaseURL() } catch { throw TicketArguments.Problem(message: "field 'apiUrl': \(error)") }
            }
            self.configured = next
            return .none
        } catch {
            return .argumentError(1, TicketArguments.message(of: error))
        }
    }

    /// `livechat.config()` → the settings in force, the API key masked.
    lazy var config: LuaHostFunction = { [unowned self] _ in
        let current = self.settings(.init())
        var table = LuaTable()
        table["apiUrl"] = .string(current.apiURL ?? LiveChatConfiguration.defaultAPIURL)
        if let login = current.login { table["login"] = .string(login) }
        if let masked = ConnectionSettings.masked(current.apiKey) { table["apiKey"] = .string(masked) }
        if let timeout = current.requestTimeout { table["timeout"] = .number(timeout) }
        if let retries = current.retries { table["retries"] = .integer(Int64(retries)) }
        return .value(.table(table))
    }
}

/// API keys entered at the terminal, by login; read and written from any thread.
final class EnteredKeys: Sendable {
    /// By login and the API URL the key was entered for: a key is sent only where it was given.
    private let keys = Mutex<[String: String]>([:])

    subscript(login: String, url: String) -> String? {
        get { keys.withLock { $0[Self.slot(login, url)] } }
        set { keys.withLock { $0[Self.slot(login, url)] = newValue } }
    }

    private static func slot(_ login: String, _ url: String) -> String { login + "\u{0}" + url }

    /// Forgets the key a request used when the service refused it, so the next request asks
    /// again (a key entered since then stays).
    func forgetIfRefused(_ error: LiveChatError, settings: ConnectionSettings) {
        guard error.kind == .auth, let login = settings.login, let key = settings.apiKey else { return }
        let slot = Self.slot(login, settings.apiURL ?? LiveChatConfiguration.defaultAPIURL)
        keys.withLock { keys in if keys[slot] == key { keys[slot] = nil } }
    }
}

/// One client per distinct settings, shared by every call that uses them (one connection pool).
final class ClientPool: Sendable {
    private let clients = Mutex<[ConnectionSettings: LiveChatClient]>([:])

    func client(for settings: ConnectionSettings) throws -> LiveChatClient {
        // A client exists only for settings that made a valid configuration: a call with the
        // same settings reuses it without making the configuration again (the proxy and trust
        // settings read from the environment and the disk).
        if let client = clients.withLock({ $0[settings] }) { return client }
        let configuration = try settings.clientConfiguration()
        _ = try configuration.validatedBaseURL()
        return clients.withLock { clients in
            if let client = clients[settings] { return client }
            let client = LiveChatClient(configuration: configuration)
            clients[settings] = client
            return client
        }
    }

    func shutdownAll() async {
        let all = clients.withLock { clients in
            let all = Array(clients.values)
            clients.removeAll()
            return all
        }
        for client in all { try? await client.shutdown() }
    }
}

import Foundation
@_spi(LiveChatTools) import LiveChat
import LuaHost

/// One request in the WSO2 LiveChat connector's JSON shape (`{"apiUrl": …, "login": …, "apiKey":
/// …, "message": …}`), for `livechat-lua call`: checked as the Lua functions check their tables,
/// sent with the module's settings, and answered as the API's JSON with its types intact.
public enum ConnectorCall {
    /// The operations, named as the connector names them.
    public static let operations = ["createTicket", "getTicketById", "listTickets", "updateTicketTags"]

    /// Why a call did not produce a response.
    public enum Failure: Error {
        /// The command was not usable as given: an unknown operation, a request that is not a JSON
        /// object. Said in a line for stderr.
        case usage(String)
        /// The request was refused, locally (validation) or by the service, or could not be sent.
        case failed(LiveChatError)
    }

    /// Checks the operation's name: nil when it is one, else the usage message that names it.
    public static func operationProblem(_ name: String) -> String? {
        guard !operations.contains(name) else { return nil }
        let suggestion = TicketArguments.closest(to: name, in: Set(operations)).map { " (did you mean '\($0)'?)" } ?? ""
        return "unknown operation '\(name)'\(suggestion); operations: \(operations.joined(separator: ", "))"
    }

    /// Runs one request and returns the response as pretty JSON text.
    public static func run(operation: String, request text: Data, module: LiveChatModule) async -> Result<String, Failure> {
        if let problem = operationProblem(operation) { return .failure(.usage(problem)) }
        let fields: TicketArguments
        do {
            fields = try arguments(of: text, for: operation)
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(.failed(LiveChatError(kind: .validation, message: TicketArguments.message(of: error))))
        }
        do {
            switch operation {
            case "createTicket":
                let request = try fields.createRequest()
                return try await send(fields, module) { try await $0.createTicket(request) }
            case "getTicketById":
                let id = try fields.requiredString("ticketId")
                return try await send(fields, module) { try await $0.ticket(id: id) }
            case "listTickets":
                let query = try fields.listQuery()
                return try await send(fields, module) { try await $0.listTickets(query) }
            default:
                let id = try fields.requiredString("ticketId")
                let tags = try fields.strings("tags") ?? []
                return try await send(fields, module) { try await $0.updateTicketTags(id: id, tags: tags) }
            }
        } catch let problem as TicketArguments.Problem {
            return .failure(.failed(LiveChatError(kind: .validation, message: problem.message)))
        } catch {
            return .failure(.failed(LiveChatError(kind: .protocol, message: "\(error)")))
        }
    }

    /// The fields each operation takes, besides the connection's own.
    static func allowedFields(_ operation: String) -> Set<String> {
        switch operation {
        case "createTicket": return TicketArguments.createFields
        case "getTicketById": return ["ticketId"]
        case "listTickets": return TicketArguments.listFields
        default: return ["ticketId", "tags"]
        }
    }

    /// The request as checked fields; the empty strings and nulls that the connector's templates
    /// leave for fields not given count as absent.
    private static func arguments(of text: Data, for operation: String) throws -> TicketArguments {
        guard !JSONDepth.exceedsLimit(text) else {
            throw Failure.usage("the request is not valid JSON (nested more than \(JSONDepth.limit) levels deep)")
        }
        let shape: JSONValue
        do {
            shape = try JSONDecoder().decode(JSONValue.self, from: text)
        } catch {
            throw Failure.usage("the request is not valid JSON (\(JSONText.describe(error, in: text)))")
        }
        guard case .object = shape else {
            throw Failure.usage("the request must be a JSON object such as {\"ticketId\": \"Q62JR\"}, got \(shape.typeName == "array" ? "an array" : "a \(shape.typeName)")")
        }
        guard case .table(var table) = try JSONDecoder().decode(LuaValue.self, from: text) else {
            throw Failure.usage("the request must be a JSON object")
        }
        for (key, value) in table.fields {
            if case .string(let s) = value, s.bytes.isEmpty { table.fields[key] = nil }
            if value == .null { table.fields[key] = nil }
        }
        return try TicketArguments(.table(table), allowed: allowedFields(operation))
    }

    /// Sends with the module's settings and the request's own connection fields; the response
    /// as the API's JSON.
    private static func send<Response: Encodable & Sendable>(
        _ fields: TicketArguments, _ module: LiveChatModule,
        _ operation: @Sendable (LiveChatClient) async throws -> Response
    ) async throws -> Result<String, Failure> {
        let settings = module.requestSettings(try fields.connectionOverrides())
        do {
            let client = try module.client(for: settings)
            let response = try await operation(client)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return .success(String(decoding: JSONModule.indented(try encoder.encode(response)), as: UTF8.self))
        } catch let error as LiveChatError {
            module.enteredKeys.forgetIfRefused(error, settings: settings)
            return .failure(.failed(error.redacting(module.secrets.all)))
        }
    }
}

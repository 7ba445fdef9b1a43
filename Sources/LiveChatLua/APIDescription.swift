import Foundation

/// The Lua API as data: every function of the `livechat`, `json` and `csv` modules, its
/// parameters (type, allowed values, default, a line each), what it returns, and the shapes of
/// what comes back (a ticket, a page, an error). Argument checking (`TicketArguments`' fields and
/// choices), "did you mean" for fields and function names, `help` and the editor types
/// (`--lua-ls-types`) are all made from it, so they cannot disagree.
public struct APIDescription: Sendable {
    /// One parameter: a field of a table argument, or a positional argument.
    public struct Parameter: Sendable {
        public var name: String
        /// In lua-language-server's notation: `string`, `integer`, `integer[]`, `0|1`, `table`…
        public var type: String
        public var doc: String
        public var required = false
        /// The values accepted, when they are a fixed list.
        public var allowed: [String] = []
        public var defaultValue: String? = nil
    }

    /// How a function takes its arguments.
    public enum Style: Sendable {
        /// One table of named fields: `livechat.createTicket{message = …}`.
        case table
        /// Positional arguments: `livechat.updateTicketTags(id, tags)`.
        case positional
    }

    public struct Function: Sendable {
        /// `livechat.createTicket`.
        public var name: String
        public var style: Style
        public var parameters: [Parameter]
        /// In lua-language-server's notation (`livechat.Ticket?, livechat.Error?`).
        public var returns: String
        public var doc: String
        public var example: String

        /// The short name (`createTicket`).
        public var shortName: String { String(name.split(separator: ".").last ?? Substring(name)) }

        /// `livechat.createTicket{message, requesterEmail, …}` or `livechat.updateTicketTags(id, tags)`.
        public var signature: String {
            let names = parameters.map { $0.required || $0.name == "..." ? $0.name : $0.name + "?" }
            switch style {
            case .table:
                let shown = parameters.filter(\.required).map(\.name) + (parameters.contains { !$0.required } ? ["…"] : [])
                return name + "{" + shown.joined(separator: ", ") + "}"
            case .positional:
                return name + "(" + names.joined(separator: ", ") + ")"
            }
        }
    }

    /// A table the API returns, with its fields.
    public struct Shape: Sendable {
        /// `livechat.Ticket`.
        public var name: String
        public var doc: String
        public var fields: [Parameter]
    }

    public var functions: [Function]
    public var shapes: [Shape]

    public func function(named name: String) -> Function? {
        functions.first { $0.name == name || $0.shortName == name }
    }

    public func shape(named name: String) -> Shape? {
        shapes.first { $0.name == name }
    }

    /// The fields of a table-style function, as a set for checking.
    func fieldNames(of name: String) -> Set<String> {
        Set(function(named: name)?.parameters.map(\.name) ?? [])
    }

    /// The allowed values of a function's parameter.
    func allowed(_ function: String, _ parameter: String) -> [String] {
        self.function(named: function)?.parameters.first { $0.name == parameter }?.allowed ?? []
    }

    // MARK: - The description

    static let connection: [Parameter] = [
        .init(name: "apiUrl", type: "string", doc: "this call's API URL (give apiKey with it: a key goes only to its URL)"),
        .init(name: "login", type: "string", doc: "this call's agent login"),
        .init(name: "apiKey", type: "string", doc: "this call's API key (never printed)"),
    ]

    public static let livechat = APIDescription(
        functions: [
            Function(
                name: "livechat.createTicket", style: .table,
                parameters: [
                    .init(name: "message", type: "string", doc: "the first message", required: true),
                    .init(name: "requesterEmail", type: "string", doc: "the customer's e-mail address", required: true),
                    .init(name: "requesterName", type: "string", doc: "the customer's name"),
                    .init(name: "subject", type: "string", doc: "the subject", defaultValue: "(no subject)"),
                    .init(name: "sourceType", type: "string", doc: "where the ticket came from",
                          allowed: ["chat-window", "mail", "lc2"], defaultValue: "lc2"),
                    .init(name: "sourceUrl", type: "string", doc: "the page, kept for sourceType \"chat-window\""),
                    .init(name: "assigneeId", type: "string", doc: "the login of the agent to assign it to"),
                    .init(name: "group", type: "integer[]", doc: "group ids (0 to 2147483647)", defaultValue: "{0}"),
                ] + connection,
                returns: "livechat.Ticket?, livechat.Error?",
                doc: "Creates a ticket; returns it, or nil and an error.",
                example: #"local t = assert(livechat.createTicket{ message = "My parcel is late", requesterEmail = "ann@example.com", subject = "Parcel" })"#),
            Function(
                name: "livechat.getTicketById", style: .positional,
                parameters: [.init(name: "id", type: "string", doc: "the ticket id (or a table {ticketId = id, apiUrl =, …})", required: true)],
                returns: "livechat.Ticket?, livechat.Error?",
                doc: "One ticket by its id; nil and a notFound error when there is none.",
                example: #"local t = assert(livechat.getTicketById("5FUED"))"#),
            Function(
                name: "livechat.listTickets", style: .table,
                parameters: [
                    .init(name: "status", type: "string", doc: "only tickets with this status", allowed: ["open", "pending", "solved", "spam"]),
                    .init(name: "dateFrom", type: "string", doc: "modified on or after this day (YYYY-MM-DD)"),
                    .init(name: "dateTo", type: "string", doc: "modified on or before this day (YYYY-MM-DD)"),
                    .init(name: "query", type: "string", doc: "text in the subject, a message, or the requester"),
                    .init(name: "requesterMail", type: "string", doc: "only this requester's tickets"),
                    .init(name: "tag", type: "string", doc: "only tickets with this tag"),
                    .init(name: "assigned", type: "0|1", doc: "1: assigned tickets only, 0: unassigned only"),
                    .init(name: "assignee", type: "string", doc: "only this agent's tickets"),
                    .init(name: "order", type: "string", doc: "by modification time", allowed: ["asc", "desc"], defaultValue: "desc"),
                    .init(name: "source", type: "string", doc: "only tickets from this source",
                          allowed: ["lc2", "mail", "facebook", "agent-app-manual", "chat-window"]),
                    .init(name: "page", type: "integer", doc: "the page, 25 tickets each (1 to 1000000)", defaultValue: "1"),
                    .init(name: "tagged", type: "0|1", doc: "1: tagged tickets only, 0: untagged only"),
                    .init(name: "group", type: "integer", doc: "only tickets of this group"),
                ] + connection,
                returns: "livechat.Page?, livechat.Error?",
                doc: "One page of the tickets that match.",
                example: #"local page = assert(livechat.listTickets{ status = "open" })  -- page.tickets, page.total, page.pages"#),
            Function(
                name: "livechat.updateTicketTags", style: .positional,
                parameters: [
                    .init(name: "id", type: "string", doc: "the ticket id", required: true),
                    .init(name: "tags", type: "string[]", doc: "the ticket's new tags (they replace the old ones)", required: true),
                ],
                returns: "livechat.Ticket?, livechat.Error?",
                doc: "Replaces a ticket's tags; returns the updated ticket.",
                example: #"assert(livechat.updateTicketTags("5FUED", { "vip", "billing" }))"#),
            Function(
                name: "livechat.tickets", style: .positional,
                parameters: [.init(name: "filters", type: "table", doc: "listTickets' filters, without page")],
                returns: "fun(): livechat.Ticket",
                doc: "Every matching ticket, page after page, fetched as the loop goes (an error is raised).",
                example: #"for t in livechat.tickets{ status = "open" } do print(t.id, t.subject) end"#),
            Function(
                name: "livechat.createTickets", style: .positional,
                parameters: [
                    .init(name: "rows", type: "table[]", doc: "createTicket's fields, one table a row", required: true),
                    .init(name: "options", type: "table", doc: "{concurrency, journal, key, onResult, onFailure, dryRun, results, progress, maxAttempts}"),
                ],
                returns: "table",
                doc: "Creates many tickets exactly once (a journal makes reruns safe); returns the summary.",
                example: #"local summary = livechat.createTickets(rows, { journal = "rows.journal", concurrency = 16 })"#),
            Function(
                name: "livechat.spawn", style: .positional,
                parameters: [
                    .init(name: "fn", type: "function", doc: "the function to run as a task", required: true),
                    .init(name: "...", type: "any", doc: "its arguments"),
                ],
                returns: "livechat.Task",
                doc: "Runs fn concurrently; handle:wait() gives its results (or raises its error), handle:cancel() stops it. At the prompt it outlives the line.",
                example: #"local h = livechat.spawn(livechat.getTicketById, "5FUED"); local t = h:wait()"#),
            Function(
                name: "livechat.wait", style: .positional,
                parameters: [.init(name: "handle", type: "livechat.Task", doc: "a task from livechat.spawn", required: true)],
                returns: "any", doc: "The task's results, waiting for it (handle:wait() is the same); its error is raised.",
                example: #"local t = livechat.wait(livechat.spawn(livechat.getTicketById, "5FUED"))"#),
            Function(
                name: "livechat.tasks", style: .positional, parameters: [], returns: "table[]",
                doc: "The spawned tasks, oldest first, as {id, status}; at the prompt, those of earlier lines too.",
                example: "for _, t in ipairs(livechat.tasks()) do print(t.id, t.status) end"),
            Function(
                name: "livechat.map", style: .positional,
                parameters: [
                    .init(name: "items", type: "table", doc: "the items", required: true),
                    .init(name: "fn", type: "function", doc: "fn(item, index), run for every item", required: true),
                    .init(name: "options", type: "table", doc: "{concurrency = N}", defaultValue: "{concurrency = 8}"),
                ],
                returns: "table",
                doc: "fn for every item, at most concurrency at once; the results in order.",
                example: #"local subjects = livechat.map(ids, function(id) return assert(livechat.getTicketById(id)).subject end, { concurrency = 16 })"#),
            Function(
                name: "livechat.sleep", style: .positional,
                parameters: [.init(name: "seconds", type: "number", doc: "0 to 1000000", required: true)],
                returns: "nil", doc: "Waits, letting other tasks run.", example: "livechat.sleep(0.5)"),
            Function(
                name: "livechat.now", style: .positional, parameters: [], returns: "number",
                doc: "Wall-clock seconds since 1970, as a float.", example: "local t0 = livechat.now()"),
            Function(
                name: "livechat.configure", style: .table,
                parameters: connection + [
                    .init(name: "timeout", type: "number", doc: "seconds per attempt (more than 0, at most 3600)"),
                    .init(name: "retries", type: "integer", doc: "retries after a failed attempt (0 to 20)"),
                ],
                returns: "nil", doc: "Settings for the calls that follow.",
                example: #"livechat.configure{ timeout = 10, retries = 2 }"#),
            Function(
                name: "livechat.config", style: .positional, parameters: [], returns: "table",
                doc: "The settings in force (the key masked).", example: "print(livechat.config().apiUrl)"),
            Function(
                name: "json.encode", style: .positional,
                parameters: [
                    .init(name: "value", type: "any", doc: "a table, string, number, boolean or json.null", required: true),
                    .init(name: "options", type: "table", doc: "{pretty = true} for indented output"),
                ],
                returns: "string", doc: "JSON text, keys sorted.", example: #"print(json.encode({ a = 1 }, { pretty = true }))"#),
            Function(
                name: "json.decode", style: .positional,
                parameters: [.init(name: "text", type: "string", doc: "JSON text", required: true)],
                returns: "any, string?", doc: "The value, or nil and a message.", example: #"local v = json.decode('{"a": 1}')"#),
            Function(
                name: "csv.read", style: .positional,
                parameters: [
                    .init(name: "path", type: "string", doc: "the file", required: true),
                    .init(name: "options", type: "table", doc: "{header = true, delimiter = \",\", trim = false}"),
                ],
                returns: "table[]?, string[]|string?", doc: "The rows of a CSV file (tables keyed by the header) and the header; or nil and a message.",
                example: #"local rows = assert(csv.read("tickets.csv"))"#),
            Function(
                name: "csv.write", style: .positional,
                parameters: [
                    .init(name: "path", type: "string", doc: "the file", required: true),
                    .init(name: "rows", type: "table[]", doc: "the rows", required: true),
                    .init(name: "options", type: "table", doc: "{header = {\"a\", \"b\"}, delimiter = \",\"}"),
                ],
                returns: "boolean?, string?", doc: "Writes rows as a CSV file; true, or nil and a message.", example: #"assert(csv.write("out.csv", rows))"#),
        ],
        shapes: [
            Shape(name: "livechat.Ticket", doc: "A ticket, with the API's own field names.", fields: [
                .init(name: "id", type: "string", doc: "its id (five characters)"),
                .init(name: "status", type: "string", doc: "open, pending, solved or spam"),
                .init(name: "subject", type: "string", doc: "the subject"),
                .init(name: "requester", type: "{mail: string, name: string?}", doc: "the customer"),
                .init(name: "assignee", type: "{id: string, name: string?}?", doc: "the agent it is assigned to"),
                .init(name: "groups", type: "integer[]", doc: "its groups"),
                .init(name: "tags", type: "string[]", doc: "its tags"),
                .init(name: "source", type: "{type: string, url: string?}", doc: "where it came from"),
                .init(name: "opened", type: "table[]", doc: "when it was open ({from, to} Unix times)"),
                .init(name: "modified", type: "integer", doc: "last change, Unix time"),
                .init(name: "events", type: "livechat.Event[]", doc: "messages and changes, oldest first"),
                .init(name: "firstResponse", type: "table", doc: "the first agent response, if any"),
            ]),
            Shape(name: "livechat.Event", doc: "One event of a ticket.", fields: [
                .init(name: "type", type: "string", doc: "message, assignee_changed, …"),
                .init(name: "date", type: "integer", doc: "Unix time"),
                .init(name: "author", type: "{id: string, name: string?, type: string?}", doc: "who"),
                .init(name: "message", type: "string?", doc: "the text of a message"),
                .init(name: "is_private", type: "boolean?", doc: "an internal note"),
            ]),
            Shape(name: "livechat.Page", doc: "One page of listTickets.", fields: [
                .init(name: "tickets", type: "livechat.Ticket[]", doc: "up to 25 tickets"),
                .init(name: "total", type: "integer", doc: "how many match in all"),
                .init(name: "pages", type: "integer", doc: "how many pages"),
            ]),
            Shape(name: "livechat.Error", doc: "The second result of a failed call; tostring() words it.", fields: [
                .init(name: "kind", type: "string", doc: "auth, validation, not_found, rate_limited, server, network, timeout, protocol, configuration, cancelled"),
                .init(name: "message", type: "string", doc: "what happened"),
                .init(name: "status", type: "integer?", doc: "the HTTP status"),
                .init(name: "details", type: "string[]", doc: "every message the server gave"),
                .init(name: "retryable", type: "boolean", doc: "whether trying again may help"),
                .init(name: "attempts", type: "integer", doc: "attempts made"),
            ]),
            Shape(name: "livechat.Task", doc: "A task started by livechat.spawn.", fields: [
                .init(name: "wait", type: "fun(self): any", doc: "waits; its results, or its error raised"),
                .init(name: "cancel", type: "fun(self): boolean", doc: "stops it (its request in flight too); true if it was running"),
            ]),
        ])

    // MARK: - Help

    /// `help()`: what there is, a line each, and a first example.
    public func overview() -> String {
        var lines = ["The livechat module (LiveChat tickets API), json and csv. help(f) or help \"name\" tells more.", ""]
        let width = functions.map { $0.signature.count }.max() ?? 0
        for function in functions {
            lines.append("  " + function.signature.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + function.doc)
        }
        lines += ["", "Results are plain tables: help \"livechat.Ticket\", help \"livechat.Page\", help \"livechat.Error\".",
                  "A call that fails returns nil and an error: local t, err = livechat.getTicketById(\"X\")", "",
                  "Try: " + (function(named: "livechat.listTickets")?.example ?? "")]
        return lines.joined(separator: "\n")
    }

    /// `help(f)`: the signature, each parameter with its type, default and meaning, and an example.
    public func help(for function: Function) -> String {
        var lines = [function.signature + "  →  " + function.returns, "  " + function.doc]
        if !function.parameters.isEmpty {
            lines.append("")
            let width = function.parameters.map { $0.name.count }.max() ?? 0
            for parameter in function.parameters {
                var line = "  " + parameter.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + parameter.type
                line += parameter.required ? ", required" : ""
                line += ": " + parameter.doc
                if !parameter.allowed.isEmpty { line += " (" + parameter.allowed.joined(separator: ", ") + ")" }
                if let value = parameter.defaultValue { line += "; default " + value }
                lines.append(line)
            }
        }
        lines += ["", "Example:", "  " + function.example]
        return lines.joined(separator: "\n")
    }

    /// `help(t)` on a ticket, page or error, or `help "livechat.Ticket"`: its fields.
    public func help(for shape: Shape) -> String {
        var lines = [shape.name + ": " + shape.doc, ""]
        let width = shape.fields.map { $0.name.count }.max() ?? 0
        for field in shape.fields {
            lines.append("  " + field.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + field.type + ": " + field.doc)
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Editor types

    /// A lua-language-server definition file (`---@meta`) for the modules: classes for the
    /// returned shapes, and every function with its parameters and returns.
    public func luaLanguageServerDefinitions() -> String {
        var out = ["---@meta", "-- Generated by `livechat-lua --lua-ls-types`: the livechat, json and csv modules.", ""]
        for shape in shapes {
            out.append("---" + shape.doc)
            out.append("---@class " + shape.name)
            for field in shape.fields { out.append("---@field \(field.name) \(field.type) \(field.doc)") }
            out.append("")
        }
        var tables = Set<String>()
        for function in functions {
            let module = String(function.name.split(separator: ".").first ?? "")
            if tables.insert(module).inserted {
                out.append("---@class \(module)lib")
                out.append("\(module) = {}")
                out.append("")
            }
            if function.style == .table {
                let className = function.name.replacingOccurrences(of: ".", with: "_") + "_fields"
                out.append("---@class \(className)")
                for parameter in function.parameters {
                    out.append("---@field \(parameter.name)\(parameter.required ? "" : "?") \(parameter.type) \(Self.describe(parameter))")
                }
                out.append("")
                out.append("---" + function.doc)
                out.append("---@param fields \(className)")
                out.append("---@return \(function.returns)")
                out.append("function \(function.name)(fields) end")
            } else {
                out.append("---" + function.doc)
                var names: [String] = []
                for parameter in function.parameters {
                    let name = parameter.name
                    out.append("---@param \(name)\(parameter.required || name == "..." ? "" : "?") \(parameter.type) \(Self.describe(parameter))")
                    names.append(name)
                }
                out.append("---@return \(function.returns)")
                out.append("function \(function.name)(\(names.joined(separator: ", "))) end")
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    private static func describe(_ parameter: Parameter) -> String {
        var text = parameter.doc
        if !parameter.allowed.isEmpty { text += " (" + parameter.allowed.joined(separator: ", ") + ")" }
        if let value = parameter.defaultValue { text += "; default " + value }
        return text
    }
}

import Foundation
import LiveChatLua
import LuaHost

/// `livechat-lua call OPERATION [FILE|-] [--sandbox] [--api-url URL] [--login L]`: one request in
/// the WSO2 connector's JSON shape (`{"apiUrl": …, "login": …, "apiKey": …, "message": …}`),
/// printed back as JSON, so that requests written for the connector run unchanged.
enum CallCommand {
    static let operations = ["createTicket", "getTicketById", "listTickets"]

    /// The Lua side: decode, drop the empty values the connector's templates leave, call, print.
    static let chunk = #"""
    local operation, text = ...
    local request, problem = json.decode(text)
    if type(request) ~= "table" then
      io.stderr:write("livechat-lua: the request is not a JSON object", problem and (": " .. problem) or "", "\n")
      os.exit(2)
    end
    for k, v in pairs(request) do
      if v == "" or v == json.null then request[k] = nil end
    end
    local result, err = livechat[operation](request)
    if result == nil then
      print(json.encode({ error = { kind = err.kind, status = err.status, message = err.message, details = err.details } }, { pretty = true }))
      io.stderr:write(tostring(err), "\n")
      os.exit(1)
    end
    print(json.encode(result, { pretty = true }))
    """#

    static func main(_ arguments: [String]) -> Int32 {
        var options = LuaOptions()
        var positional: [String] = []
        var i = 0
        do {
            while i < arguments.count {
                let argument = arguments[i]
                if argument == "--help" || argument == "-h" {
                    print(usage)
                    return 0
                } else if argument.hasPrefix("--") {
                    try options.parseLong(argument, next: { () throws(LuaOptions.Failure) -> String in
                        i += 1
                        guard i < arguments.count else { throw LuaOptions.Failure(message: "'\(argument)' needs argument") }
                        return arguments[i]
                    })
                } else {
                    positional.append(argument)
                }
                i += 1
            }
        } catch {
            Interpreter.printMessage(error.message)
            return 2
        }
        guard let operation = positional.first, operations.contains(operation), positional.count <= 2 else {
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            return 2
        }
        let source = positional.count == 2 ? positional[1] : "-"
        let text: Data?
        if source == "-" {
            text = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            text = FileManager.default.contents(atPath: source)
        }
        guard let text else {
            Interpreter.printMessage("cannot read \(source)")
            return 2
        }
        do {
            let state = try Interpreter.makeState(ignoreEnvironment: false)
            KeyPrompt.attach(to: try LiveChatModule.install(in: state, settings: try Interpreter.connectionSettings(options)))
            let session = Session(state: state)
            try state.load(chunk, name: "=call")
            try state.push(.string(operation))
            try state.push(.string(LuaString(bytes: Array(text))))
            try session.call(arguments: 2)
            return 0
        } catch {
            Interpreter.report(error)
            return 1
        }
    }

    static let usage = """
    usage: livechat-lua call OPERATION [FILE|-] [--sandbox] [--api-url URL] [--login EMAIL]
      OPERATION: \(operations.joined(separator: ", "))
      FILE: a JSON request in the WSO2 LiveChat connector's shape (default: standard input), e.g.
        {"apiUrl": "https://api.livechatinc.com", "login": "agent@example.com", "apiKey": "…",
         "message": "Hello", "requesterEmail": "mary@example.com", "subject": "Help"}
      Prints the response as JSON; on failure prints {"error": {…}} and exits 1.
    """
}

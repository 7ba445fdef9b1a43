import Foundation
import LiveChat
import LiveChatLua
import LuaHost

/// `livechat-lua call OPERATION [FILE|-] [--sandbox] [--api-url URL] [--login L]`: one request in
/// the WSO2 connector's JSON shape (`{"apiUrl": …, "login": …, "apiKey": …, "message": …}`),
/// printed back as JSON, so that requests written for the connector run unchanged.
enum CallCommand {
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
            return usageError(error.message)
        }
        guard let operation = positional.first else { return usageError("no operation given") }
        if let problem = ConnectorCall.operationProblem(operation) { return usageError(problem) }
        guard positional.count <= 2 else { return usageError("unexpected argument '\(positional[2])'") }
        let source = positional.count == 2 ? positional[1] : "-"
        let text: Data
        if source == "-" {
            text = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let contents = FileManager.default.contents(atPath: source)
            else {
                return usageError("cannot read the request file \(source)")
            }
            text = contents
        }
        let module: LiveChatModule
        do {
            let state = try Interpreter.makeState(ignoreEnvironment: false)
            module = try LiveChatModule.install(in: state, settings: try Interpreter.connectionSettings(options))
            KeyPrompt.attach(to: module)
        } catch {
            Interpreter.report(error)
            return 1
        }
        final class Outcome: @unchecked Sendable { var value: Result<String, ConnectorCall.Failure>? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            outcome.value = await ConnectorCall.run(operation: operation, request: text, module: module)
            await module.shutdown()
            done.signal()
        }
        done.wait()
        switch outcome.value! {
        case .success(let json):
            print(json)
            return 0
        case .failure(.usage(let message)):
            return usageError(message)
        case .failure(.failed(let error)):
            print(errorDocument(error))
            Interpreter.printMessage("livechat: \(error.kind.rawValue): \(error.message)")
            return 1
        }
    }

    /// `{"error": {kind, status, message, details}}`: what a failure prints on stdout.
    static func errorDocument(_ error: LiveChatError) -> String {
        var fields: [String: JSONValue] = [
            "kind": .string(error.kind.rawValue),
            "message": .string(error.message),
            "details": .array(error.messages.map { .string($0) }),
            "retryable": .bool(error.retryable),
        ]
        if let status = error.status { fields["status"] = .int(status) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONValue.object(["error": .object(fields)]))) ?? Data()
        return String(decoding: JSONModule.indented(data), as: UTF8.self)
    }

    /// A usage problem: said with the usage text on stderr; exit status 2.
    static func usageError(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("livechat-lua call: \(message)\n\(usage)\n".utf8))
        return 2
    }

    static let usage = """
    usage: livechat-lua call OPERATION [FILE|-] [--sandbox] [--api-url URL] [--login EMAIL] [--proxy URL]
      OPERATION: \(ConnectorCall.operations.joined(separator: ", "))
      FILE: a JSON request in the WSO2 LiveChat connector's shape (default: standard input), e.g.
        {"apiUrl": "https://api.livechatinc.com", "login": "agent@example.com", "apiKey": "…",
         "message": "Hello", "requesterEmail": "mary@example.com", "subject": "Help"}
        updateTicketTags takes {"ticketId": "Q62JR", "tags": ["vip", "billing"]}.
      Prints the response as JSON (exit status 0); any failure, a field refused before sending
      included, prints {"error": {"kind": …, "message": …, …}} and exits 1; a usage problem (an
      unknown operation, a request that is not a JSON object) exits 2.
    """
}

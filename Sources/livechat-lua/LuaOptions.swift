/// The command line of the interpreter, read as the reference `lua` reads it: options up to the
/// script name, then the script's own arguments.
struct LuaOptions {
    /// An option that runs in order before the script: `-e chunk`, `-l [g=]module`, `-W`.
    enum Action: Equatable {
        case execute(String)
        case require(global: String, module: String)
        case warnings
    }

    var actions: [Action] = []
    var interactive = false
    var version = false
    var ignoreEnvironment = false
    /// Index in `arguments` of the script name ("-" is stdin), nil when there is none.
    var scriptIndex: Int?
    /// The whole command line, program name first.
    var arguments: [String] = []

    /// Whether any -e was given (it suppresses the default prompt, as in `lua`).
    var hasExecute: Bool { actions.contains { if case .execute = $0 { return true } else { return false } } }

    /// The script's path, nil for none; "-" means standard input.
    var script: String? { scriptIndex.map { arguments[$0] } }

    /// An option error: the message `lua` prints before its usage text.
    struct Failure: Error {
        var message: String
    }

    /// Parses `arguments` (program name first), stopping at the script name or `--`.
    static func parse(_ arguments: [String]) throws(Failure) -> LuaOptions {
        var options = LuaOptions()
        options.arguments = arguments
        var i = 1
        while i < arguments.count {
            let argument = arguments[i]
            guard argument.hasPrefix("-") else {
                options.scriptIndex = i
                return options
            }
            switch argument {
            case "--":
                if i + 1 < arguments.count { options.scriptIndex = i + 1 }
                return options
            case "-":
                options.scriptIndex = i
                return options
            case "-E": options.ignoreEnvironment = true
            case "-W": options.actions.append(.warnings)
            case "-i":
                options.interactive = true
                options.version = true
            case "-v": options.version = true
            default:
                if argument.hasPrefix("-e") || argument.hasPrefix("-l") {
                    let flag = String(argument.prefix(2))
                    var value = String(argument.dropFirst(2))
                    if value.isEmpty {
                        i += 1
                        guard i < arguments.count, !arguments[i].hasPrefix("-") else {
                            throw Failure(message: "'\(flag)' needs argument")
                        }
                        value = arguments[i]
                    }
                    if flag == "-e" {
                        options.actions.append(.execute(value))
                    } else if let equals = value.firstIndex(of: "=") {
                        options.actions.append(.require(global: String(value[..<equals]), module: String(value[value.index(after: equals)...])))
                    } else {
                        options.actions.append(.require(global: value, module: value))
                    }
                } else {
                    throw Failure(message: "unrecognized option '\(argument)'")
                }
            }
            i += 1
        }
        return options
    }
}

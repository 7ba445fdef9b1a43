import LiveChat
import LiveChatLua

/// The command line of the interpreter, read as the reference `lua` reads it: options up to the
/// script name, then the script's own arguments.
///
/// Parsed by hand, not by swift-argument-parser (which the subcommands use): `lua`'s grammar
/// stops at the script name and gives every later word to the script (`-e` and `-l` run in
/// order, `-` is standard input, `--` ends the options), and ArgumentParser would read the
/// script's own arguments as its options. This is the design's one documented exception.
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
    /// `--sandbox`: run against an in-process sandbox server.
    var sandbox = false
    /// `--api-url`, `--login`: connection settings from the command line.
    var apiURL: String?
    var login: String?
    /// `--proxy URL`: the HTTP proxy for API calls ("" for none, over the environment's).
    var proxy: String?
    /// `--timeout SECONDS`: the per-request timeout of API calls.
    var timeout: Double?
    /// `--max-memory BYTES`: the Lua state's memory cap (K, M, G suffixes allowed).
    var maxMemory: Int?
    /// `--json`: print the script's returned values as JSON.
    var json = false
    /// `--insecure-http`: allow plain http:// to hosts other than loopback.
    var insecureHTTP = false
    /// `--help`.
    var help = false
    /// `--lua-ls-types DIR`: write the editor definitions there and exit.
    var luaLSTypes: String?
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
            if argument.hasPrefix("--") && argument.count > 2 {
                try options.parseLong(argument, next: { () throws(Failure) -> String in
                    i += 1
                    guard i < arguments.count else { throw Failure(message: "'\(argument)' needs argument") }
                    return arguments[i]
                })
                i += 1
                continue
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

    /// Reads one of our own long options (`--name value` or `--name=value`).
    mutating func parseLong(_ argument: String, next: () throws(Failure) -> String) throws(Failure) {
        var name = argument
        var inline: String?
        if let equals = argument.firstIndex(of: "=") {
            name = String(argument[..<equals])
            inline = String(argument[argument.index(after: equals)...])
        }
        func value() throws(Failure) -> String {
            if let inline { return inline }
            return try next()
        }
        func flag() throws(Failure) {
            if inline != nil { throw Failure(message: "'\(name)' takes no value") }
        }
        switch name {
        case "--sandbox": try flag(); sandbox = true
        case "--json": try flag(); json = true
        case "--help": try flag(); help = true
        case "--insecure-http": try flag(); insecureHTTP = true
        case "--api-url": apiURL = try value()
        case "--login": login = try value()
        case "--lua-ls-types": luaLSTypes = try value()
        case "--proxy":
            let url = try value()
            // Checked where it enters: a usage error before anything runs.
            if !url.isEmpty {
                do { _ = try LiveChatProxy(url: url, origin: "'--proxy'") } catch { throw Failure(message: error.message) }
            }
            proxy = url
        case "--api-key":
            throw Failure(message: "the API key is never given on the command line (it would show in ps and shell history); set LIVECHAT_API_KEY or use the config file")
        case "--timeout":
            let text = try value()
            if let seconds = Double(text), let problem = ConnectionSettings.timeoutProblem(seconds, "'--timeout'") {
                throw Failure(message: "\(problem), got '\(text)'")
            }
            guard let seconds = Double(text) else {
                throw Failure(message: "'--timeout' expects a number of seconds, got '\(text)'")
            }
            timeout = seconds
        case "--max-memory":
            let text = try value()
            guard let bytes = Self.byteCount(text), bytes > 0 else {
                throw Failure(message: "'--max-memory' expects a size such as 64M, got '\(text)'")
            }
            maxMemory = bytes
        default:
            throw Failure(message: "unrecognized option '\(argument)'")
        }
    }

    /// A byte count with an optional K, M or G suffix (powers of 1024).
    static func byteCount(_ text: String) -> Int? {
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var digits = text.uppercased()
        var multiplier = 1
        if digits.hasSuffix("B") { digits.removeLast() }
        if let last = digits.last, let m = multipliers[last] {
            multiplier = m
            digits.removeLast()
        }
        guard let n = Int(digits), n >= 0 else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}

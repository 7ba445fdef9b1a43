import Foundation
import LiveChatLua
import LuaHost

/// One interpreter session over a Lua state: runs chunks, files and options, reporting errors as
/// lua.c does. Every method returns false after reporting a failure.
final class Session {
    let state: LuaState
    /// The `livechat` module installed in the state.
    let module: LiveChatModule?
    /// `--json`: the script's returned values are printed as JSON.
    let printJSON: Bool

    init(state: LuaState, module: LiveChatModule?, printJSON: Bool = false) {
        self.state = state
        self.module = module
        self.printJSON = printJSON
    }

    /// Prints every value above `base` as JSON, one document per value (for `--json`).
    func printValuesAsJSON(above base: Int32) throws {
        var values: [LuaValue] = []
        for index in stride(from: base + 1, through: state.top, by: 1) {
            let value = try state.value(at: index)
            do {
                _ = try JSONModule.text(of: value, pretty: false)
            } catch EncodingError.invalidValue(_, let context) {
                throw JSONOutputProblem(description: "--json: result \(index - base) cannot be written as JSON: \(context.debugDescription)")
            }
            values.append(value)
        }
        // One document: the value, or an array of them when the script returned several (none
        // prints nothing). Everything is converted before anything is printed: a value JSON
        // cannot hold leaves no half-written output behind.
        guard !values.isEmpty else { return }
        let document = values.count == 1 ? values[0] : .table(LuaTable(sequence: values))
        print(try JSONModule.text(of: document, pretty: true))
    }

    /// A script's result that JSON cannot hold (NaN, a function), said in a line.
    struct JSONOutputProblem: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the function below `arguments` as the scheduler's main coroutine, with Ctrl-C armed
    /// to interrupt it; leaves all results on the stack.
    func call(arguments: Int32) throws {
        state.catchInterrupts()
        defer {
            LuaState.releaseInterrupts()
            state.interrupter.clear()
        }
        try state.scheduler.run(arguments: arguments)
    }

    /// Compiles and runs a chunk; reports a failure.
    func runChunk(_ chunk: String, name: String) -> Bool {
        let base = state.top
        do {
            try state.load(chunk, name: name)
            try call(arguments: 0)
            state.pop(state.top - base)
            return true
        } catch {
            Interpreter.report(error)
            return false
        }
    }

    /// Runs a file (nil: standard input) with no arguments; reports a failure.
    func runFile(_ path: String?) -> Bool {
        let base = state.top
        defer { state.settle(top: base) }
        do {
            try loadFile(path)
            try call(arguments: 0)
            return true
        } catch {
            Interpreter.report(error)
            return false
        }
    }

    /// Pushes the compiled file (nil: standard input); a leading `#` line is skipped, as lua does.
    func loadFile(_ path: String?) throws {
        try state.loadFile(path)
    }

    /// Runs LUA_INIT_5_4 (or LUA_INIT): `@file` runs that file, anything else is a chunk.
    func runInit() -> Bool {
        var name = "=LUA_INIT_5_4"
        var value = ConnectionSettings.getenv("LUA_INIT_5_4")
        if value == nil {
            name = "=LUA_INIT"
            value = ConnectionSettings.getenv("LUA_INIT")
        }
        guard let value else { return true }
        if value.hasPrefix("@") { return runFile(String(value.dropFirst())) }
        return runChunk(value, name: name)
    }

    /// Runs `-e`, `-l` and `-W` in command-line order.
    func runActions(_ actions: [LuaOptions.Action]) -> Bool {
        for action in actions {
            switch action {
            case .execute(let chunk):
                guard runChunk(chunk, name: "=(command line)") else { return false }
            case .require(let global, let module):
                guard requireModule(module, as: global) else { return false }
            case .warnings:
                state.setWarnings(true)
            }
        }
        return true
    }

    /// `global = require(module)`; reports a failure.
    func requireModule(_ module: String, as global: String) -> Bool {
        do {
            let base = state.top
            try state.pushGlobal("require")
            try state.push(.string(module))
            try call(arguments: 1)
            state.pop(state.top - base - 1)
            try state.setGlobalFromTop(global)
            return true
        } catch {
            Interpreter.report(error)
            return false
        }
    }

    /// Runs the script (a path, or "-" for standard input) with its arguments as `...`.
    func runScript(_ script: String, options: LuaOptions) -> Bool {
        let useStdin = script == "-" && options.arguments[options.scriptIndex! - 1] != "--"
        let base = state.top
        defer { state.settle(top: base) }
        do {
            try loadFile(useStdin ? nil : script)
            let scriptArguments = options.arguments[(options.scriptIndex! + 1)...]
            for argument in scriptArguments { try state.push(.string(argument)) }
            try call(arguments: Int32(scriptArguments.count))
            if printJSON { try printValuesAsJSON(above: base) }
            return true
        } catch {
            Interpreter.report(error)
            return false
        }
    }
}

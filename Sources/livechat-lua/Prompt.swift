import CLuaShim
import Foundation
import LuaHost

/// The interactive prompt: reads statements, continues incomplete ones on further lines, runs
/// them, and prints what expressions return, as lua.c's REPL does.
struct Prompt {
    let session: Session
    var state: LuaState { session.state }

    /// Reads and runs lines until end of input.
    func run() {
        while let chunk = readChunk() {
            let base = state.top
            do {
                try session.call(arguments: 0)
                try printResults(above: base)
            } catch {
                Interpreter.report(error)
            }
            lua_settop(state.L, base)
        }
        print()
    }

    /// The prompt text: the global `_PROMPT` (or `_PROMPT2` for continuation lines) when it is
    /// set, else "> " and ">> ".
    func promptText(continuation: Bool) -> String {
        let name = continuation ? "_PROMPT2" : "_PROMPT"
        if case .string(let s)? = try? state.global(name) { return s.description }
        return continuation ? ">> " : "> "
    }

    /// Reads one line after showing a prompt; nil at end of input.
    func readLine(continuation: Bool) -> String? {
        FileHandle.standardOutput.write(Data(promptText(continuation: continuation).utf8))
        fflush(stdout)
        return Swift.readLine(strippingNewline: true)
    }

    /// Reads a complete statement and leaves it compiled on the stack; nil at end of input.
    /// An expression is tried first as `return <line>`, so that its value is printed.
    func readChunk() -> String? {
        while true {
            guard var line = readLine(continuation: false) else { return nil }
            if line.hasPrefix("=") { line = "return " + line.dropFirst() }  // Lua 5.1's habit
            if (try? state.load("return " + line, name: "=stdin")) != nil { return line }
            var text = line
            while true {
                do {
                    try state.load(text, name: "=stdin")
                    return text
                } catch let error as LuaError where error.kind == .syntax && error.message.hasSuffix("<eof>") {
                    guard let more = readLine(continuation: true) else { return nil }
                    text += "\n" + more
                } catch {
                    Interpreter.report(error)
                    break
                }
            }
        }
    }

    /// Calls the global `print` with every value above `base`, when there are any.
    func printResults(above base: Int32) throws {
        let count = state.top - base
        guard count > 0 else { return }
        let status = clshim_getglobal(state.L, "print")
        guard status == LUA_OK else { throw state.popError(status: status) }
        clshim_insert(state.L, base + 1)
        try state.call(arguments: count, results: 0)
    }
}

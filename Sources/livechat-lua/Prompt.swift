import Foundation
import LiveChatLua
import LuaHost

/// The interactive prompt: reads statements, continues incomplete ones on further lines, runs
/// them, and pretty-prints what they return, as lua.c's REPL does and more.
///
/// On a terminal, lines are edited with libedit, kept in a history file and completed with Tab;
/// results and errors are coloured unless NO_COLOR is set. Otherwise (a pipe, `-i` in a test)
/// lines are read plainly, without history or colour.
final class Prompt {
    let session: Session
    var state: LuaState { session.state }
    private let reader: LineReader
    private let history: History?
    private let printer: ValuePrinter
    private let colourErrors: Bool
    /// Set by `raw(x)`: the next results are printed as full tables, not as cards.
    private let rawRequested = RawFlag()

    final class RawFlag: @unchecked Sendable { var value = false }

    init(session: Session, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.session = session
        printer = ValuePrinter(palette: Prompt.allowsColour(STDOUT_FILENO, environment: environment) ? .ansi : .plain)
        colourErrors = Prompt.allowsColour(STDERR_FILENO, environment: environment)
        // Tasks spawned on one line can be waited for, listed and cancelled on later ones.
        session.state.scheduler.tasksOutliveRuns = true
        let completion = Completion(state: session.state)
        // `raw(x)`: returns x, and asks for the full table instead of a card.
        let flag = rawRequested
        if (try? session.state.push(function: { args in
            flag.value = true
            return .pushed(args.count)
        })) != nil {
            try? session.state.setGlobalFromTop("raw")
        }
        if isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0 {
            setlocale(LC_CTYPE, "")  // libedit decodes and displays characters per the locale
            let history = History.standard(environment: environment, secrets: session.module?.secrets ?? KnownSecrets())
            if let editor = LineEditor(
                programName: Interpreter.programName, entries: history.entries, historySize: history.limit,
                complete: { completion.candidates(before: $0) }
            ) {
                self.history = history
                reader = editor
                return
            }
        }
        history = nil
        reader = PlainLineReader()
    }

    /// Whether output on `descriptor` may be coloured: a terminal, NO_COLOR not set (whatever its
    /// value, as no-color.org asks), and not a dumb terminal.
    static func allowsColour(_ descriptor: Int32, environment: [String: String]) -> Bool {
        isatty(descriptor) != 0 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    /// Reads and runs statements until end of input, then prints a newline.
    func run() {
        defer { LuaState.releaseInterrupts() }
        while true {
            switch readStatement() {
            case .end:
                fputs("\n", stdout)
                fflush(stdout)
                return
            case .cancelled:
                continue
            case .invalid(let entry):
                remember(entry)
            case .compiled(let entry):
                // Remembered once it has run: a key the line itself gave (to configure{}, or at
                // the key prompt it led to) is known by then, and the line is left out.
                runCompiled()
                remember(entry)
            }
        }
    }

    /// What reading a statement gave.
    enum Statement {
        /// A compiled chunk is on the stack; `entry` is its text for the history.
        case compiled(entry: String)
        /// It did not compile (the error is reported); nothing is on the stack.
        case invalid(entry: String)
        /// Ctrl-C abandoned it.
        case cancelled
        /// End of input.
        case end
    }

    /// Reads a complete statement and leaves it compiled on the stack. A line is tried first as
    /// `return <line>`, so that an expression's value is printed; a chunk whose syntax error is
    /// at `<eof>` is incomplete and continues on the next line, as lua.c decides.
    func readStatement() -> Statement {
        let first = reader.readLine(prompt: promptText(continuation: false))
        guard case .line(var line) = first else { return first == .interrupted ? .cancelled : .end }
        if line.hasPrefix("=") { line = "return " + line.dropFirst() }  // Lua 5.1's habit
        if (try? state.load("return " + line, name: "=stdin")) != nil { return .compiled(entry: line) }
        var text = line
        while true {
            do {
                try state.load(text, name: "=stdin")
                return .compiled(entry: text)
            } catch let error as LuaError where error.kind == .syntax && error.message.hasSuffix("<eof>") {
                switch reader.readLine(prompt: promptText(continuation: true)) {
                case .line(let more): text += "\n" + more
                case .interrupted: return .cancelled
                case .end: return .end
                }
            } catch {
                report(error)
                return .invalid(entry: text)
            }
        }
    }

    /// Runs the compiled chunk on top of the stack; prints its results, or reports its error.
    func runCompiled() {
        let base = state.top - 1
        defer { state.settle(top: base) }
        do {
            try session.call(arguments: 0)
            printResults(above: base)
        } catch {
            report(error)
        }
    }

    /// Prints the values above `base`, separated by tabs as lua.c does, and keeps the first in
    /// the global `_`.
    func printResults(above base: Int32) {
        let top = state.top
        guard top > base else { return }
        if (try? state.pushCopy(of: base + 1)) != nil { try? state.setGlobalFromTop("_") }
        let stack = state.stack
        let raw = rawRequested.value
        rawRequested.value = false
        let texts = (base + 1...top).map { index in
            if !raw, let value = try? state.value(at: index), let card = ResultCards.text(for: value) { return card }
            return printer.describeResult(stack, at: index)
        }
        fputs(texts.joined(separator: "\t") + "\n", stdout)
        fflush(stdout)
    }

    /// Reports an error as lua.c's REPL does (`livechat-lua: message` and the traceback), in red
    /// on a terminal that allows colour.
    func report(_ error: Error) {
        fflush(stdout)
        let text = (error as? LuaError)?.description ?? String(describing: error)
        let message = "\(Interpreter.programName): \(text)"
        let line = colourErrors ? "\u{1B}[31m" + message + "\u{1B}[0m\n" : message + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Adds a statement's text to the history (which leaves out secrets and repeats) and makes it
    /// recallable.
    private func remember(_ entry: String) {
        guard let history, history.add(entry) else { return }
        reader.remember(entry)
    }

    /// The prompt text: the global `_PROMPT` (or `_PROMPT2` for continuation lines) when it is
    /// a string, else "> " and ">> ".
    func promptText(continuation: Bool) -> String {
        let name = continuation ? "_PROMPT2" : "_PROMPT"
        if case .string(let s)? = try? state.global(name) { return s.description }
        return continuation ? ">> " : "> "
    }
}

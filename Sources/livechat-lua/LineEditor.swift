import CEditLine
import Foundation
import LuaHost

/// What reading one line gave.
enum LineInput: Equatable {
    /// A line, without its newline.
    case line(String)
    /// Ctrl-C while the line was being typed: it is abandoned.
    case interrupted
    /// End of input (Ctrl-D on an empty line, or a closed stdin).
    case end
}

/// Reads the prompt's lines.
protocol LineReader: AnyObject {
    /// Shows `prompt` and reads one line.
    func readLine(prompt: String) -> LineInput
    /// Makes an entry recallable with the up arrow.
    func remember(_ entry: String)
}

/// Lines from a stdin that is not a terminal (a pipe, a test): the prompt is written, the line
/// read as it comes, as lua.c does without readline.
final class PlainLineReader: LineReader {
    func readLine(prompt: String) -> LineInput {
        fputs(prompt, stdout)
        fflush(stdout)
        return Swift.readLine(strippingNewline: true).map(LineInput.line) ?? .end
    }

    func remember(_ entry: String) {}
}

/// Line editing on a terminal with libedit: emacs keys, history recall, tab completion.
///
/// libedit's own signal handling (EL_SIGNAL) stays off: it would re-raise Ctrl-C to the whole
/// process group. Instead a SIGINT handler installed without SA_RESTART (CLuaShim's prompt
/// handler) makes the blocking read fail with EINTR, and this editor's read function, seeing
/// the flag, abandons the line. While Lua code runs, `Session.call` installs its own handler,
/// which interrupts the code; libedit has put the terminal back in its normal mode by then.
final class LineEditor: LineReader {
    private let editLine: OpaquePointer
    private let history: OpaquePointer
    /// The current prompt as a C string; libedit asks for it at each redisplay.
    private var promptText: UnsafeMutablePointer<CChar>?
    /// Set by the read function when Ctrl-C abandoned the line.
    fileprivate var interrupted = false
    fileprivate let complete: (String) -> Completion.Candidates?

    /// Sets up libedit on stdin/stdout; nil when it cannot (no usable terminal).
    init?(programName: String, entries: [String], historySize: Int, complete: @escaping (String) -> Completion.Candidates?) {
        guard let editLine = el_init(programName, stdin, stdout, stderr) else { return nil }
        guard let history = history_init() else {
            el_end(editLine)
            return nil
        }
        self.editLine = editLine
        self.history = history
        self.complete = complete
        cedit_history_setsize(history, Int32(historySize))
        for entry in entries { cedit_history_enter(history, entry) }

        cedit_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        cedit_set_editor(editLine, "emacs")
        cedit_set_signal(editLine, 0)
        cedit_set_history(editLine, history)
        cedit_set_prompt(editLine, LineEditor.prompt)
        cedit_set_getc(editLine, LineEditor.readCharacter)
        cedit_add_function(editLine, "livechat-complete", "Complete the name before the cursor", LineEditor.completeName)
        cedit_bind(editLine, "^I", "livechat-complete")
        // The user's ~/.editrc (or $EDITRC) may rebind keys, as for other libedit programs.
        el_source(editLine, nil)
    }

    deinit {
        el_end(editLine)
        history_end(history)
        free(promptText)
    }

    func readLine(prompt: String) -> LineInput {
        free(promptText)
        promptText = strdup(prompt)
        interrupted = false
        // A Ctrl-C from before the prompt appeared is not meant for this line.
        _ = LuaState.takePromptInterrupt()
        LuaState.catchPromptInterrupts()
        var count: Int32 = 0
        guard let line = el_gets(editLine, &count) else {
            if interrupted {
                fputs("\n", stdout)
                fflush(stdout)
                return .interrupted
            }
            return .end
        }
        var text = String(cString: line)
        if text.hasSuffix("\n") { text.removeLast() }
        return .line(text)
    }

    func remember(_ entry: String) {
        cedit_history_enter(history, entry)
    }

    /// The editor behind a libedit handle.
    fileprivate static func editor(_ editLine: OpaquePointer?) -> LineEditor? {
        guard let editLine, let data = cedit_clientdata(editLine) else { return nil }
        return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue()
    }

    private static let prompt: @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>? = { editLine in
        editor(editLine)?.promptText
    }

    /// libedit's read function: one character from stdin, decoded per the locale. Returns 1 and
    /// the character, 0 at end of input, -1 on error or when Ctrl-C abandons the line.
    private static let readCharacter: @convention(c) (OpaquePointer?, UnsafeMutablePointer<wchar_t>?) -> Int32 = { editLine, out in
        var pending: [CChar] = []
        while true {
            var byte: CChar = 0
            let n = read(STDIN_FILENO, &byte, 1)
            if n < 0 {
                guard errno == EINTR else { return -1 }
                if LuaState.takePromptInterrupt() {
                    editor(editLine)?.interrupted = true
                    out?.pointee = 0
                    return -1
                }
                continue  // another signal (a resize): keep reading
            }
            if n == 0 {
                out?.pointee = 0
                return 0
            }
            pending.append(byte)
            var state = mbstate_t()
            var character: wchar_t = 0
            let result = pending.withUnsafeBufferPointer { mbrtowc(&character, $0.baseAddress, $0.count, &state) }
            switch result {
            case -2 where pending.count < Int(MB_LEN_MAX):
                continue  // an incomplete sequence: read on
            case -1, -2:
                pending.removeAll()  // not a character in this locale: drop it
            default:
                out?.pointee = character
                return 1
            }
        }
    }

    /// Tab: completes the name before the cursor as far as it is unambiguous, or lists the
    /// candidates when it already is.
    private static let completeName: @convention(c) (OpaquePointer?, Int32) -> UInt8 = { editLine, _ in
        guard let editLine, let editor = editor(editLine), let info = el_line(editLine)?.pointee,
              let buffer = info.buffer, let cursor = info.cursor else { return UInt8(CC_ERROR) }
        let length = buffer.distance(to: cursor)
        let before = buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        guard let candidates = editor.complete(before), !candidates.names.isEmpty else { return UInt8(CC_REFRESH_BEEP) }
        let suffix = candidates.commonSuffix
        if !suffix.isEmpty {
            return el_insertstr(editLine, suffix) == 0 ? UInt8(CC_REFRESH) : UInt8(CC_ERROR)
        }
        if candidates.names.count == 1 { return UInt8(CC_NORM) }
        fputs("\n" + columns(candidates.names, width: 80), stdout)
        fflush(stdout)
        return UInt8(CC_REDISPLAY)
    }

    /// Names laid out in columns, as shells list completions.
    static func columns(_ names: [String], width: Int) -> String {
        let cell = (names.map(\.count).max() ?? 0) + 2
        let perLine = max(1, width / cell)
        var out = ""
        for (i, name) in names.enumerated() {
            let last = i % perLine == perLine - 1 || i == names.count - 1
            out += last ? name + "\n" : name.padding(toLength: cell, withPad: " ", startingAt: 0)
        }
        return out
    }
}

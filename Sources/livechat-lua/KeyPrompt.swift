import Foundation
import LuaHost
import LiveChatLua

/// Asks for the API key at the terminal, with echo off, when a request needs one and none is
/// configured. The key never passes through the line editor, so it cannot reach the history.
enum KeyPrompt {
    /// Lets `module` ask when standard input is a terminal; otherwise (cron, CI, a pipe) a
    /// request without a key fails at once with the error that says how to configure one.
    static func attach(to module: LiveChatModule) {
        guard isatty(STDIN_FILENO) != 0 else { return }
        module.askForAPIKey = ask(login:url:)
    }

    /// Reads one line from the controlling terminal with echo off. Nil when nothing was
    /// entered, at end of input, or on Ctrl-C (which then interrupts the running code, as a
    /// Ctrl-C at any other moment of a run does).
    static func ask(login: String, url: String?) -> String? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)

        // While waiting, Ctrl-C only raises a flag and makes the read return.
        var runAction = sigaction()
        sigaction(SIGINT, nil, &runAction)
        _ = LuaState.takePromptInterrupt()
        LuaState.catchPromptInterrupts()

        // With `url`, the key configured is for another URL: this one is for `url` alone.
        write(fd, "API key for \(login)\(url.map { " at \($0)" } ?? "") (not shown): ")
        tcsetattr(fd, TCSAFLUSH, &quiet)
        var line = [UInt8]()
        var interrupted = false
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 {
                if byte == UInt8(ascii: "\n") { break }
                line.append(byte)
            } else if n < 0 && errno == EINTR {
                if LuaState.takePromptInterrupt() { interrupted = true; break }
            } else {
                break  // end of input or a read error
            }
        }
        tcsetattr(fd, TCSAFLUSH, &saved)
        write(fd, "\n")
        sigaction(SIGINT, &runAction, nil)
        if interrupted {
            raise(SIGINT)
            return nil
        }
        let key = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return key.isEmpty ? nil : key
    }

    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(fd, &bytes, bytes.count)
    }
}

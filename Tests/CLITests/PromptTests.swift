import Foundation
import XCTest

/// The built binary's interactive prompt, driven as a person drives it: in a terminal (a tmux
/// pane, one tmux server per test), keys sent, the screen read back. Each test has its own home
/// and XDG state directory, so history never leaks between tests or from the user's own.
final class PromptTests: XCTestCase {
    var home: URL!
    var historyFile: URL { home.appendingPathComponent("state/livechat-lua/history") }

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("livechat-lua-prompt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: home)
    }

    /// Starts the prompt in a fresh terminal; the terminal is closed when the test ends.
    func openTerminal(environment: [String: String] = ["NO_COLOR": "1"]) throws -> Terminal {
        let terminal = try Terminal(home: home, environment: environment)
        addTeardownBlock { terminal.close() }
        terminal.waitForScreen("the first prompt") { Terminal.lastLine($0) == ">" }
        return terminal
    }

    // MARK: - Reading and printing

    func testExpressionIsPrintedWithoutReturn() throws {
        let terminal = try openTerminal()
        terminal.type("1 + 41", "Enter")
        terminal.waitForScreen("the sum") { Terminal.lines($0).contains("42") }
    }

    func testTableIsPrettyPrinted() throws {
        let terminal = try openTerminal()
        terminal.type("{ b = 2, a = { 1, 2 }, s = 'x' }", "Enter")
        terminal.waitForScreen("the table") { Terminal.lines($0).contains(#"{ a = { 1, 2 }, b = 2, s = "x" }"#) }
    }

    func testIncompleteStatementContinuesOnTheNextLines() throws {
        let terminal = try openTerminal()
        terminal.type("for i = 1, 2 do", "Enter")
        terminal.waitForScreen("the continuation prompt") { Terminal.lastLine($0) == ">>" }
        terminal.type("print(i * 10)", "Enter")
        terminal.waitForScreen("a second continuation prompt") { Terminal.lines($0).contains(">> print(i * 10)") && Terminal.lastLine($0) == ">>" }
        terminal.type("end", "Enter")
        let screen = terminal.waitForScreen("the loop's output") { Terminal.lines($0).contains("20") }
        let lines = Terminal.lines(screen)
        XCTAssertEqual(Array(lines.drop { $0 != ">> end" }.dropFirst().prefix(2)), ["10", "20"], screen)
    }

    func testHelpAtThePromptAndFunctionsPrintedByTheirSignature() throws {
        let terminal = try openTerminal()
        terminal.waitForScreen("the banner naming help()") { $0.contains("help() shows the livechat API") }
        terminal.type("help(livechat.createTicket)", "Enter")
        terminal.waitForScreen("the parameters of createTicket") {
            Terminal.lines($0).contains { $0.hasPrefix("  requesterEmail  string, required: the customer's e-mail address") }
                && $0.contains("Example:")
        }
        terminal.type("livechat.updateTicketTags", "Enter")
        terminal.waitForScreen("a function shown by its signature") {
            Terminal.lines($0).contains("function livechat.updateTicketTags(id, tags)")
        }
        terminal.type("livechat.getTiketById", "Enter")
        terminal.waitForScreen("did you mean, for a function name") { $0.contains("did you mean 'getTicketById'?") }
    }

    func testTicketsPagesAndErrorsAreShownAsPeopleReadThem() throws {
        let sandbox = try SlowSandbox.start(latencyMilliseconds: 0)
        defer { sandbox.stop() }
        let terminal = try openTerminal(environment: [
            "NO_COLOR": "1", "LIVECHAT_API_URL": sandbox.url,
            "LIVECHAT_LOGIN": "agent@sandbox.livechat.local", "LIVECHAT_API_KEY": "sandbox-demo-key",
        ])
        terminal.type("livechat.getTicketById('5FUED')", "Enter")
        terminal.waitForScreen("the ticket card") { screen in
            let lines = Terminal.lines(screen)
            return lines.contains(#"ticket 5FUED  open  "My new shoes are broken""#)
                && lines.contains { $0.hasPrefix("  assignee   Jane Doe <") } && lines.contains("  events (3):")
                && lines.contains { $0.hasPrefix("  created    20") }
        }
        terminal.type("raw(_)", "Enter")
        terminal.waitForScreen("the whole table, on asking") { $0.contains("events = {") }
        terminal.type("livechat.listTickets{}", "Enter")
        terminal.waitForScreen("the page as a table with a summary") { screen in
            let lines = Terminal.lines(screen)
            return lines.contains { $0.hasPrefix("id     status") && $0.hasSuffix("subject") }
                && lines.contains { $0.hasPrefix("5FUED  ") } && lines.contains { $0.contains(" tickets, 1 page; _.tickets holds them") }
        }
        terminal.type("select(2, livechat.getTicketById('ZZZZZ'))", "Enter")
        terminal.waitForScreen("the error with its kind and status") {
            Terminal.lines($0).contains("livechat.Error not_found (HTTP 404): HTTP 404 Not Found: ticket not found")
        }
    }

    func testUnderscoreHoldsTheLastResult() throws {
        let terminal = try openTerminal()
        terminal.type("6 * 7", "Enter")
        terminal.waitForScreen("the product") { Terminal.lines($0).contains("42") }
        terminal.type("_ + 1", "Enter")
        terminal.waitForScreen("the last result plus one") { Terminal.lines($0).contains("43") }
    }

    func testTabCompletesTableFields() throws {
        let terminal = try openTerminal()
        terminal.type("string.fo", "Tab")
        terminal.waitForScreen("the completed name") { Terminal.lastLine($0) == "> string.format" }
        terminal.type("('%d-%s', 7, 'x')", "Enter")
        terminal.waitForScreen("the formatted string") { Terminal.lines($0).contains("7-x") }
    }

    func testTabCompletesThroughIndexesAndTheParametersOfACall() throws {
        let terminal = try openTerminal()
        terminal.type("t = { events = { { author = { name = 'Mary' } } }, requester = { mail = 'm@x' } }", "Enter")
        terminal.waitForScreen("the second prompt") { Terminal.lines($0).filter { $0 == ">" }.count == 1 }
        terminal.type("t.events[1].au", "Tab")
        terminal.waitForScreen("a field through an index") { Terminal.lastLine($0) == "> t.events[1].author" }
        terminal.type(".na", "Tab")
        terminal.waitForScreen("and on") { Terminal.lastLine($0) == "> t.events[1].author.name" }
        terminal.type("Enter")
        terminal.waitForScreen("the name") { Terminal.lines($0).contains("Mary") }
        terminal.type("t['requester'].ma", "Tab")
        terminal.waitForScreen("a field through a string key") { Terminal.lastLine($0) == "> t['requester'].mail" }
        terminal.type("Enter")
        terminal.waitForScreen("the mail") { Terminal.lines($0).contains("m@x") }
        terminal.type("_:up", "Tab")
        terminal.waitForScreen("a method of the last result") { Terminal.lastLine($0) == "> _:upper" }
        terminal.type("()", "Enter")
        terminal.waitForScreen("the upper case") { Terminal.lines($0).contains("M@X") }
        terminal.type("x = livechat.createTicket{ message = 'Hi', requesterE", "Tab")
        terminal.waitForScreen("a parameter of createTicket") {
            Terminal.lastLine($0) == "> x = livechat.createTicket{ message = 'Hi', requesterEmail"
        }
    }

    func testATaskSpawnedOnOneLineIsWaitedListedAndCancelledOnLaterOnes() throws {
        let terminal = try openTerminal()
        terminal.type("h = livechat.spawn(function() livechat.sleep(0.3) return 'done', 42 end)", "Enter")
        terminal.waitForScreen("the prompt back at once") { Terminal.lines($0).filter { $0 == ">" }.count == 1 }
        terminal.type("#livechat.tasks(), livechat.tasks()[1].status", "Enter")
        terminal.waitForScreen("the task listed") { Terminal.lines($0).contains { $0.hasPrefix("1") && $0.hasSuffix("running") } }
        terminal.type("h:wait()", "Enter")
        terminal.waitForScreen("its results on a later line") { Terminal.lines($0).contains { $0.hasPrefix("done") && $0.hasSuffix("42") } }
        terminal.type("slow = livechat.spawn(livechat.sleep, 600)", "Enter")
        terminal.type("slow:cancel(), slow:cancel()", "Enter")
        terminal.waitForScreen("cancelled once") { Terminal.lines($0).contains { $0.hasPrefix("true") && $0.hasSuffix("false") } }
        terminal.type("pcall(slow.wait, slow)", "Enter")
        terminal.waitForScreen("its waiter told") { Terminal.lines($0).contains { $0.hasPrefix("false") && $0.hasSuffix("cancelled") } }
    }

    // MARK: - History

    func testHistoryIsRecalledInTheNextSessionWithoutSecrets() throws {
        let first = try openTerminal(environment: ["NO_COLOR": "1", "LIVECHAT_API_KEY": "sk-live-777"])
        first.type("config = { apiKey = 'k-123' }", "Enter")
        first.waitForScreen("the second prompt") { Terminal.lines($0).filter { $0 == ">" }.count == 1 && Terminal.lastLine($0) == ">" }
        first.type("key = 'sk-live-777'", "Enter")
        first.type("answer = 6 * 7", "Enter")
        first.type("answer", "Enter")
        first.waitForScreen("the answer") { Terminal.lines($0).contains("42") }
        first.type("C-d")
        first.waitForScreen("the first session's end") { $0.contains("[exited 0]") }

        let saved = try String(contentsOf: historyFile, encoding: .utf8)
        XCTAssertEqual(saved, "answer = 6 * 7\nanswer\n")
        let mode = try FileManager.default.attributesOfItem(atPath: historyFile.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)

        let second = try openTerminal()
        second.type("Up", "Up")
        second.waitForScreen("the recalled line") { Terminal.lastLine($0) == "> answer = 6 * 7" }
        second.type("Enter", "answer + 1", "Enter")
        second.waitForScreen("the recalled line's effect") { Terminal.lines($0).contains("43") }
    }

    // MARK: - Keys

    func testCtrlCAtThePromptClearsTheLine() throws {
        let terminal = try openTerminal()
        terminal.type("abc")
        terminal.waitForScreen("the typed text") { Terminal.lastLine($0) == "> abc" }
        terminal.type("C-c")
        terminal.waitForScreen("a fresh prompt") { Terminal.lastLine($0) == ">" }
        terminal.type("for i = 1, 2 do", "Enter")
        terminal.waitForScreen("the continuation prompt") { Terminal.lastLine($0) == ">>" }
        terminal.type("C-c")
        terminal.waitForScreen("a fresh primary prompt") { Terminal.lastLine($0) == ">" }
        terminal.type("1 + 1", "Enter")
        let screen = terminal.waitForScreen("the sum") { Terminal.lines($0).contains("2") }
        XCTAssertFalse(screen.contains("abc1"), screen)
        XCTAssertFalse(screen.contains("livechat-lua:"), "no error was reported:\n\(screen)")
    }

    func testCtrlCInterruptsRunningCodeAndReturnsToThePrompt() throws {
        let terminal = try openTerminal()
        terminal.type("io.write('spin', 'ning\\n'); io.flush(); while true do end", "Enter")
        terminal.waitForScreen("the loop running") { Terminal.lines($0).contains("spinning") }
        terminal.type("C-c")
        terminal.waitForScreen("the interruption") { $0.contains("interrupted!") && Terminal.lastLine($0) == ">" }
        terminal.type("1 + 2", "Enter")
        terminal.waitForScreen("the prompt working again") { Terminal.lines($0).contains("3") }
    }

    func testCtrlCCancelsARequestSlowedByTheSandbox() throws {
        let slow = try SlowSandbox.start()
        defer { slow.stop() }
        let terminal = try openTerminal(environment: [
            "NO_COLOR": "1", "LIVECHAT_API_URL": slow.url,
            "LIVECHAT_LOGIN": "agent@sandbox.livechat.local", "LIVECHAT_API_KEY": "sandbox-demo-key",
        ])
        terminal.type("io.write('wait', 'ing\\n'); page, err = livechat.listTickets{}; print('finished')", "Enter")
        terminal.waitForScreen("the request in flight") { Terminal.lines($0).contains("waiting") }
        let started = Date()
        usleep(300_000)
        terminal.type("C-c")
        terminal.waitForScreen("the interruption") { $0.contains("interrupted!") && Terminal.lastLine($0) == ">" }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "Ctrl-C did not wait for the 30 s request")
        terminal.type("page == nil, 6 * 7", "Enter")
        let screen = terminal.waitForScreen("the prompt working again") { Terminal.lines($0).contains("true\t42") || Terminal.lines($0).contains("true    42") }
        XCTAssertFalse(Terminal.lines(screen).contains("finished"), screen)
    }

    /// A prompt with a login and a URL but no key anywhere (not in the environment, nor in a
    /// config file: HOME is the test's own directory), at the key prompt of a first request.
    func openTerminalAtTheKeyPrompt(_ sandbox: SlowSandbox) throws -> Terminal {
        let terminal = try openTerminal(environment: [
            "NO_COLOR": "1", "LIVECHAT_API_URL": sandbox.url, "LIVECHAT_LOGIN": "agent@sandbox.livechat.local",
        ])
        terminal.type("page = livechat.listTickets{}", "Enter")
        terminal.waitForScreen("the key prompt") { Terminal.lastLine($0) == "API key for agent@sandbox.livechat.local (not shown):" }
        return terminal
    }

    func testTheAPIKeyIsAskedForWithEchoOffWhenNoneIsConfigured() throws {
        let sandbox = try SlowSandbox.start(latencyMilliseconds: 0)
        defer { sandbox.stop() }
        let terminal = try openTerminalAtTheKeyPrompt(sandbox)
        terminal.type("wrong-key", "Enter")
        terminal.waitForScreen("the prompt after a refused key") { Terminal.lastLine($0) == ">" }
        terminal.type("page", "Enter")
        terminal.waitForScreen("no page") { Terminal.lines($0).contains("nil") }

        // The refused key was forgotten: the next request asks again.
        terminal.type("page = livechat.listTickets{}", "Enter")
        terminal.waitForScreen("the key prompt again") { Terminal.lastLine($0) == "API key for agent@sandbox.livechat.local (not shown):" }
        terminal.type("sandbox-demo-key", "Enter")
        terminal.waitForScreen("the prompt after the request") { Terminal.lastLine($0) == ">" }
        terminal.type("page.total", "Enter")
        terminal.waitForScreen("the ticket count") { Terminal.lines($0).contains("5") }

        // Asked once: later requests use the entered key.
        terminal.type("#livechat.listTickets{page = 1}.tickets", "Enter")
        let screen = terminal.waitForScreen("the second page's count") { Terminal.lines($0).filter { $0 == "5" }.count == 2 }
        XCTAssertFalse(screen.contains("sandbox-demo-key"), "the key was echoed:\n\(screen)")
        XCTAssertFalse(screen.contains("wrong-key"), "the key was echoed:\n\(screen)")

        terminal.type("C-d")
        terminal.waitForScreen("the end of the session") { $0.contains("[exited 0]") }
        let saved = try String(contentsOf: historyFile, encoding: .utf8)
        XCTAssertFalse(saved.contains("sandbox-demo-key") || saved.contains("wrong-key"), "the key reached the history: \(saved)")
        XCTAssertTrue(saved.contains("page.total\n"), saved)
    }

    func testAKeyFromThePromptOrConfigureIsKeptOutOfTheHistoryWhereverItAppears() throws {
        let sandbox = try SlowSandbox.start(latencyMilliseconds: 0)
        defer { sandbox.stop() }
        let terminal = try openTerminalAtTheKeyPrompt(sandbox)
        terminal.type("sandbox-demo-key", "Enter")
        terminal.waitForScreen("the prompt after the request") { Terminal.lastLine($0) == ">" }
        // Lines that hold the entered key, or one given to configure{} earlier, without naming it.
        terminal.type("pasted = 'sandbox-demo-key'", "Enter")
        terminal.type("livechat.configure{ login = 'agent@sandbox.livechat.local', ['api' .. 'Key'] = 'other-secret-42' }", "Enter")
        terminal.type("copy = 'other-secret-42'", "Enter")
        terminal.type("kept = 1", "Enter")
        terminal.type("kept", "Enter")
        terminal.waitForScreen("the last line's result") { Terminal.lines($0).contains("1") }
        terminal.type("C-d")
        terminal.waitForScreen("the end of the session") { $0.contains("[exited 0]") }
        let saved = try String(contentsOf: historyFile, encoding: .utf8)
        XCTAssertFalse(saved.contains("sandbox-demo-key"), "the entered key reached the history: \(saved)")
        XCTAssertFalse(saved.contains("other-secret-42"), "the configured key reached the history: \(saved)")
        XCTAssertEqual(saved, "page = livechat.listTickets{}\nkept = 1\nkept\n")
    }

    func testAKeyForAnotherURLIsNotSentAndThePromptNamesTheURLItAsksFor() throws {
        let home = try SlowSandbox.start(latencyMilliseconds: 0)
        defer { home.stop() }
        let other = try SlowSandbox.start(latencyMilliseconds: 0)
        defer { other.stop() }
        let terminal = try openTerminal(environment: [
            "NO_COLOR": "1", "LIVECHAT_API_URL": home.url, "LIVECHAT_LOGIN": "agent@sandbox.livechat.local",
            "LIVECHAT_API_KEY": "sandbox-demo-key",
        ])
        terminal.type("page = livechat.listTickets{ apiUrl = '\(other.url)' }", "Enter")
        terminal.waitForScreen("the key prompt for the other URL") {
            Terminal.lastLine($0) == "API key for agent@sandbox.livechat.local at \(other.url) (not shown):"
        }
        terminal.type("sandbox-demo-key", "Enter")
        terminal.waitForScreen("the prompt after the request") { Terminal.lastLine($0) == ">" }
        terminal.type("page.total", "Enter")
        terminal.waitForScreen("the other sandbox's tickets") { Terminal.lines($0).contains("5") }
    }

    func testCtrlCAtTheKeyPromptInterruptsTheLine() throws {
        let sandbox = try SlowSandbox.start(latencyMilliseconds: 0)
        defer { sandbox.stop() }
        let terminal = try openTerminal(environment: [
            "NO_COLOR": "1", "LIVECHAT_API_URL": sandbox.url, "LIVECHAT_LOGIN": "agent@sandbox.livechat.local",
        ])
        terminal.type("page = livechat.listTickets{}; print('after the call')", "Enter")
        terminal.waitForScreen("the key prompt") { Terminal.lastLine($0) == "API key for agent@sandbox.livechat.local (not shown):" }
        terminal.type("half-typed", "C-c")
        let screen = terminal.waitForScreen("the interruption") { $0.contains("interrupted!") && Terminal.lastLine($0) == ">" }
        XCTAssertFalse(Terminal.lines(screen).contains("after the call"), screen)
        XCTAssertFalse(screen.contains("half-typed"), screen)
        // The terminal echoes again.
        terminal.type("6 * 7", "Enter")
        terminal.waitForScreen("the prompt working, with echo") { Terminal.lines($0).contains("> 6 * 7") && Terminal.lines($0).contains("42") }
    }

    func testWithoutATerminalAMissingKeyIsAnErrorAtOnce() throws {
        let sandbox = try SlowSandbox.start(latencyMilliseconds: 0)
        defer { sandbox.stop() }
        let run = try BuiltBinary.run(
            ["-e", "local page, err = livechat.listTickets{}; print(page, err.kind, err.message)"],
            environment: [
                "HOME": home.path, "XDG_CONFIG_HOME": home.path, "LIVECHAT_API_KEY": "",
                "LIVECHAT_API_URL": sandbox.url, "LIVECHAT_LOGIN": "agent@sandbox.livechat.local",
            ],
            stdin: "")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("nil\tauth\tno API key configured: set LIVECHAT_API_KEY"), run.stdout)
    }

    func testCtrlDOnAnEmptyLineExitsWithStatusZero() throws {
        let terminal = try openTerminal()
        terminal.type("C-d")
        terminal.waitForScreen("the exit status") { $0.contains("[exited 0]") }
    }

    // MARK: - Colour

    func testColourOnATerminalAndNoneWithNoColor() throws {
        let coloured = try openTerminal(environment: [:])
        coloured.type("{ 'x', 1 }", "Enter")
        coloured.waitForScreen("the table") { Terminal.lines($0).contains(#"{ "x", 1 }"#) }
        XCTAssertTrue(coloured.capture(escapes: true).contains("\u{1B}["), "colour escapes on a terminal")

        let plain = try openTerminal(environment: ["NO_COLOR": ""])
        plain.type("{ 'x', 1 }", "Enter")
        plain.type("error('boom')", "Enter")
        plain.waitForScreen("the error") { $0.contains("boom") && Terminal.lastLine($0) == ">" }
        let screen = plain.capture(escapes: true)
        XCTAssertTrue(screen.contains(#"{ "x", 1 }"#), screen)
        XCTAssertFalse(screen.contains("\u{1B}["), "no colour escapes with NO_COLOR:\n\(screen)")
    }

    // MARK: - Without a terminal

    func testInteractiveOptionWithPipedInputReadsPlainLines() throws {
        let run = try BuiltBinary.run(["-i"], environment: ["HOME": home.path], stdin: "1 + 1\nfor i = 1, 2 do\nprint(i)\nend\n{ z = 1, a = 'b' }\n")
        XCTAssertEqual(run.status, 0, run.stderr)
        let afterBanner = run.stdout.drop { $0 != "\n" }.dropFirst()
        XCTAssertEqual(String(afterBanner), "> 2\n> >> >> 1\n2\n> { a = \"b\", z = 1 }\n> \n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent(".local/state").path), "no history without a terminal")
    }

    func testPromptVariablesChangeThePrompts() throws {
        let run = try BuiltBinary.run(["-e", "_PROMPT = 'lua$ '; _PROMPT2 = '...$ '", "-i"], stdin: "if true then\nend\n")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasSuffix("lua$ ...$ lua$ \n"), run.stdout)
    }
}

/// The built binary in a tmux pane of its own tmux server (`-S` socket): keys in, screen out.
final class Terminal {
    /// The tmux server's socket, in the test's own directory (removed with it).
    let socket: String

    /// Starts the binary in a 120×40 pane with a clean environment: HOME and XDG_STATE_HOME in
    /// `home`, plus `environment`. The shell around it reports its exit status and keeps the pane
    /// open; it ignores Ctrl-C itself (a trap, so the binary still gets the default action).
    init(home: URL, environment: [String: String]) throws {
        socket = home.appendingPathComponent("tmux-\(UUID().uuidString.prefix(8)).socket").path
        var variables = [
            "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home.path,
            "XDG_STATE_HOME": home.appendingPathComponent("state").path,
        ]
        for (name, value) in environment { variables[name] = value }
        let assignments = variables.sorted { $0.key < $1.key }.map { "\($0.key)=\(Terminal.quoted($0.value))" }
        let script = "trap : INT; env -i TERM=\"$TERM\" \(assignments.joined(separator: " ")) \(Terminal.quoted(BuiltBinary.url.path)); echo \"[exited $?]\"; sleep 600"
        let status = Terminal.tmux(["-S", socket, "-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "120", "-y", "40", "/bin/sh", "-c", script]).status
        guard status == 0 else { throw TerminalError(message: "tmux new-session failed with status \(status)") }
    }

    struct TerminalError: Error { var message: String }

    /// Sends keys: tmux key names ("Enter", "Tab", "Up", "C-c", "C-d") as keys, anything else as
    /// literal text.
    func type(_ keys: String...) {
        let named: Set<String> = ["Enter", "Tab", "Up", "Down", "C-c", "C-d", "BSpace"]
        for key in keys {
            let arguments = named.contains(key) ? [key] : ["-l", key]
            Terminal.tmux(["-S", socket, "send-keys", "-t", "main"] + arguments)
        }
    }

    /// The visible screen; with `escapes`, colours and attributes as escape sequences.
    func capture(escapes: Bool = false) -> String {
        Terminal.tmux(["-S", socket, "capture-pane", "-p", "-t", "main"] + (escapes ? ["-e"] : []), readOutput: true).output
    }

    /// Polls the screen until `condition` holds, up to a deadline generous for a loaded machine;
    /// fails the test when it never does. Returns the last screen seen.
    @discardableResult
    func waitForScreen(_ what: String, timeout: TimeInterval = 20, file: StaticString = #filePath, line: UInt = #line,
                       _ condition: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = capture()
        while !condition(screen) {
            guard Date() < deadline else {
                XCTFail("timed out waiting for \(what); the screen:\n\(screen)", file: file, line: line)
                return screen
            }
            usleep(50_000)
            screen = capture()
        }
        return screen
    }

    /// Ends the tmux server and everything in it.
    func close() {
        Terminal.tmux(["-S", socket, "kill-server"])
    }

    /// The screen's lines without trailing blanks, empty lines dropped.
    static func lines(_ screen: String) -> [String] {
        screen.split(separator: "\n").map { line in
            var line = Substring(line)
            while line.last == " " { line = line.dropLast() }
            return String(line)
        }.filter { !$0.isEmpty }
    }

    /// The last non-empty line (where the cursor's prompt is).
    static func lastLine(_ screen: String) -> String? { lines(screen).last }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Runs tmux to completion; with `readOutput`, collects what it prints. Spawned and reaped
    /// directly (not with Foundation's Process, whose exit watch missed the tmux client that
    /// forks the server), its output a pipe only when read: a tmux server forked by
    /// `new-session` would hold a pipe open for good.
    @discardableResult
    static func tmux(_ arguments: [String], readOutput: Bool = false) -> (status: Int32, output: String) {
        var fds: [Int32] = [-1, -1]
        if readOutput { guard pipe(&fds) == 0 else { return (-1, "") } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if readOutput {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_addclose(&actions, fds[0])
            posix_spawn_file_actions_addclose(&actions, fds[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        // Tests may themselves run inside tmux: TMUX would make it talk to that server.
        let environment = ProcessInfo.processInfo.environment.filter { $0.key != "TMUX" }.map { "\($0.key)=\($0.value)" }
        let argv = (["/usr/bin/tmux"] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/tmux", &actions, nil, argv, envp)
        if readOutput { Glibc.close(fds[1]) }
        guard spawned == 0 else {
            if readOutput { Glibc.close(fds[0]) }
            return (-1, "")
        }
        var data = [UInt8]()
        if readOutput {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fds[0], &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                data += buffer[0..<n]
            }
            Glibc.close(fds[0])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
        return (exitStatus, String(decoding: data, as: UTF8.self))
    }
}

import Foundation
import LiveChatLua
import LuaHost

/// The Lua interpreter front end: the reference `lua`'s command line, options and error
/// reporting, over a `LuaState`.
enum Interpreter {
    /// The name errors are reported under.
    static let programName = "livechat-lua"
    /// The one version string: the `livechat` module's.
    static var version: String { LiveChatModule.version }

    /// Runs the interpreter with the command line's arguments (without the program name);
    /// returns the process exit status.
    static func main(_ arguments: [String]) -> Int32 {
        let argv = [CommandLine.arguments.first ?? programName] + arguments
        let options: LuaOptions
        do {
            options = try LuaOptions.parse(argv)
        } catch {
            printUsage(error.message)
            return 2
        }
        if options.help {
            printHelp()
            return 0
        }
        if let folder = options.luaLSTypes { return writeTypes(to: folder) }
        if options.version { printVersion() }
        let state: LuaState
        let module: LiveChatModule
        do {
            state = try makeState(ignoreEnvironment: options.ignoreEnvironment, memoryLimit: options.maxMemory)
            module = try LiveChatModule.install(in: state, settings: try connectionSettings(options))
            KeyPrompt.attach(to: module)
            try createArgTable(state, options: options)
        } catch {
            report(error)
            return 1
        }
        let session = Session(state: state, module: module, printJSON: options.json)
        guard options.ignoreEnvironment || session.runInit() else { return 1 }
        guard session.runActions(options.actions) else { return 1 }
        if let script = options.script {
            guard session.runScript(script, options: options) else { return 1 }
        }
        if options.interactive {
            Prompt(session: session).run()
            return 0
        } else if options.script == nil && !options.hasExecute && !options.version {
            if isatty(STDIN_FILENO) != 0 {
                printVersion()
                print("help() shows the livechat API; Tab completes; Ctrl-D leaves.")
                fflush(stdout)
                Prompt(session: session).run()
                return 0
            } else {
                guard session.runFile(nil) else { return 1 }
            }
        }
        // A script whose spawned coroutine failed with nobody waiting has failed too, though
        // its main chunk ran to the end: the error was printed, and the status says so.
        return state.scheduler.unobservedErrorCount > 0 ? 1 : 0
    }

    /// Creates a state with the standard libraries; with `-E`, package paths ignore LUA_PATH and
    /// LUA_CPATH (the registry flag LUA_NOENV, as lua.c sets it).
    static func makeState(ignoreEnvironment: Bool, memoryLimit: Int? = nil) throws -> LuaState {
        let state = try LuaState(memoryLimit: memoryLimit, openLibraries: false)
        try state.openStandardLibraries(ignoringEnvironment: ignoreEnvironment)
        state.scheduler.reportUnobservedError = { printMessage("error in a spawned coroutine: \($0.description)") }
        return state
    }

    /// The connection settings, weakest first: config file, environment, command line, and
    /// `--sandbox` over all of them; warnings (a config file's problem, settings the sandbox
    /// overrides) are printed on stderr.
    static func connectionSettings(
        apiURL: String?, login: String?, proxy: String?, timeout: Double?, insecureHTTP: Bool, sandbox: Bool
    ) throws -> ConnectionSettings {
        var command = ConnectionSettings(apiURL: apiURL, login: login)
        if let proxy {
            command.proxy = proxy
            command.proxyOrigin = "'--proxy'"
        }
        command.requestTimeout = timeout
        command.allowInsecureHTTP = insecureHTTP
        let (settings, warnings) = try ConnectionSettings.resolved(
            commandLine: command, sandbox: sandbox ? { try EmbeddedSandbox.start() } : nil)
        for warning in warnings { printMessage("warning: \(warning)") }
        return settings
    }

    /// The connection settings of the interpreter's command line.
    static func connectionSettings(_ options: LuaOptions) throws -> ConnectionSettings {
        try connectionSettings(apiURL: options.apiURL, login: options.login, proxy: options.proxy, timeout: options.timeout,
                               insecureHTTP: options.insecureHTTP, sandbox: options.sandbox)
    }

    /// Sets the global `arg`: the script name at 0, its arguments at 1..n, the interpreter and
    /// its options at negative indices (all negative when there is no script), as lua.c does.
    static func createArgTable(_ state: LuaState, options: LuaOptions) throws {
        let scriptIndex = options.scriptIndex ?? options.arguments.count
        var table = LuaTable()
        for (i, argument) in options.arguments.enumerated() {
            let key = Int64(i - scriptIndex)
            if key >= 1 { table.sequence.append(.string(argument)) } else { table.fields[.integer(key)] = .string(argument) }
        }
        try state.setGlobal("arg", .table(table))
    }

    /// Prints `livechat-lua: message` on stderr, as lua.c's l_message does.
    static func printMessage(_ message: String) {
        FileHandle.standardError.write(Data("\(programName): \(message)\n".utf8))
    }

    /// Reports an error (with its traceback, when it has one) on stderr.
    static func report(_ error: Error) {
        if let error = error as? LuaError {
            printMessage(error.description)
        } else {
            printMessage(String(describing: error))
        }
    }

    /// Writes `livechat.lua`, the lua-language-server definitions of the modules, into `folder`
    /// (made if missing); says where, or why not.
    static func writeTypes(to folder: String) -> Int32 {
        let path = (folder as NSString).appendingPathComponent("livechat.lua")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try APIDescription.livechat.luaLanguageServerDefinitions().write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            printMessage("cannot write \(path): \((error as NSError).localizedDescription)")
            return 1
        }
        print("wrote \(path): point lua-language-server's workspace.library at \(folder)")
        return 0
    }

    /// Prints the version line on stdout.
    static func printVersion() {
        print("\(programName) \(version) — \(LuaState.copyright)")
        fflush(stdout)
    }

    /// Prints the help text on stdout.
    static func printHelp() {
        print("""
        \(programName) \(version): Lua 5.4 with the LiveChat tickets API.

        usage: \(programName) [options] [script [args]]
               \(programName) serve [--port N] [--db FILE] [--seed-tickets N] …   (see serve --help)

        Options of the reference lua interpreter:
          -e stat        execute string 'stat'
          -i             enter interactive mode after executing 'script'
          -l mod         require library 'mod' into global 'mod'
          -l g=mod       require library 'mod' into global 'g'
          -v             show version information
          -E             ignore environment variables (LUA_INIT, LUA_PATH, LUA_CPATH)
          -W             turn warnings on
          --             stop handling options
          -              stop handling options and execute stdin

        LiveChat options:
          --sandbox          start a sandbox server in this process (seeded with sample tickets)
                             and point the client at it
          --api-url URL      the API's base URL (default https://api.livechatinc.com)
          --login EMAIL      the agent login (the API key comes from LIVECHAT_API_KEY, the
                             config file or, at a terminal, a prompt; never the command line)
          --proxy URL        the HTTP proxy, http://[USER:PASSWORD@]HOST:PORT ("" for none)
          --timeout SECONDS  per-request timeout of API calls (more than 0, at most 3600)
          --max-memory SIZE  cap the Lua state's memory (e.g. 256M)
          --lua-ls-types DIR write DIR/livechat.lua, the lua-language-server definitions of
                             the livechat, json and csv modules, and exit
          --json             print the script's returned value as one JSON document (an
                             array when it returns several)
          --insecure-http    allow plain http:// to a host other than loopback
          --help             this text

        Environment: LIVECHAT_API_URL, LIVECHAT_LOGIN, LIVECHAT_API_KEY, LUA_INIT, LUA_PATH,
        LUA_CPATH, NO_COLOR; https_proxy, http_proxy, all_proxy, no_proxy (as curl reads them;
        loopback hosts are reached directly); SSL_CERT_FILE, SSL_CERT_DIR (certificates trusted
        besides the system's). Config file: \(ConnectionSettings.configFilePath()), with apiUrl,
        login, apiKey, proxy, caFile. A key given with an API URL is sent only to that URL.

        Exit status: 0 success; 1 a failed script (also an error in a spawned coroutine that
        nothing waited for); 2 a usage error; os.exit(n) exits with n.

        Examples:
          \(programName) --sandbox examples/quickstart.lua
          \(programName) --sandbox -e 'print(livechat.listTickets{status = "open"}.total)'
          LIVECHAT_LOGIN=me@example.com LIVECHAT_API_KEY=… \(programName) report.lua
          \(programName) --sandbox            (the interactive prompt)
        """)
    }

    /// Prints an option error and the usage text on stderr.
    static func printUsage(_ message: String) {
        let usage = """
        \(programName): \(message)
        usage: \(programName) [options] [script [args]]
        Available options are:
          -e stat   execute string 'stat'
          -i        enter interactive mode after executing 'script'
          -l mod    require library 'mod' into global 'mod'
          -l g=mod  require library 'mod' into global 'g'
          -v        show version information
          -E        ignore environment variables
          -W        turn warnings on
          --        stop handling options
          -         stop handling options and execute stdin

        """
        FileHandle.standardError.write(Data(usage.utf8))
    }
}

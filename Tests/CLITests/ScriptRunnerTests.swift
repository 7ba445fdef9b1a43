import Foundation
import XCTest

/// The built binary run as users run it: scripts with arguments, -e, stdin, -v, and the exit
/// status and error output of failures.
final class ScriptRunnerTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("livechat-lua-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func script(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testScriptSeesItsArgumentsInArgAndVarargs() throws {
        let path = try script("args.lua", """
            print(#arg, arg[0] == ..., arg[1], arg[2], select('#', ...))
            print(...)
            print(arg[-1] ~= nil, arg[-2])
            """)
        let run = try BuiltBinary.run([path, "one", "two words"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "2\tfalse\tone\ttwo words\t2\none\ttwo words\ntrue\tnil\n")
    }

    func testOptionsBeforeTheScriptGetNegativeIndices() throws {
        let path = try script("neg.lua", "print(arg[-2], arg[-1], arg[0] ~= nil)")
        let run = try BuiltBinary.run(["-e", "x=1", path])
        XCTAssertEqual(run.stdout, "-e\tx=1\ttrue\n")
    }

    func testExecuteOptionRunsChunksInOrder() throws {
        let run = try BuiltBinary.run(["-e", "a = 20", "-e", "print(a + 22)"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "42\n")
    }

    func testRuntimeErrorExitsOneWithMessageAndTraceback() throws {
        _ = try script("fail.lua", "local function f() error('it broke') end\nf()\n")
        let path = "fail.lua"
        let run = try BuiltBinary.run([path], currentDirectory: directory)
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stdout, "")
        XCTAssertTrue(run.stderr.hasPrefix("livechat-lua: \(path):1: it broke\nstack traceback:\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("\(path):2: in main chunk"), run.stderr)
    }

    func testSyntaxErrorExitsOne() throws {
        _ = try script("bad.lua", "x = = 1\n")
        let path = "bad.lua"
        let run = try BuiltBinary.run([path], currentDirectory: directory)
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stderr, "livechat-lua: \(path):1: unexpected symbol near '='\n")
    }

    func testMissingScriptFileIsReported() throws {
        let run = try BuiltBinary.run([directory.appendingPathComponent("nope.lua").path])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.hasPrefix("livechat-lua: cannot open "), run.stderr)
    }

    func testDashRunsStandardInputWithArguments() throws {
        let run = try BuiltBinary.run(["-", "a", "b"], stdin: "print('stdin', ...)\nprint(arg[0])\n")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "stdin\ta\tb\n-\n")
    }

    func testNoScriptAndStdinNotATerminalRunsStdin() throws {
        let run = try BuiltBinary.run([], stdin: "io.write('from pipe')")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "from pipe")
    }

    func testVersionOptionPrintsTheLuaRelease() throws {
        let run = try BuiltBinary.run(["-v"])
        XCTAssertEqual(run.status, 0)
        XCTAssertTrue(run.stdout.hasPrefix("livechat-lua "), run.stdout)
        XCTAssertTrue(run.stdout.contains("Lua 5.4"), run.stdout)
    }

    func testUnknownOptionPrintsUsageAndExitsTwo() throws {
        let run = try BuiltBinary.run(["-x"])
        XCTAssertEqual(run.status, 2, "a usage error, as in every command")
        XCTAssertTrue(run.stderr.hasPrefix("livechat-lua: unrecognized option '-x'\nusage: "), run.stderr)
    }

    func testExecuteNeedsAnArgument() throws {
        let run = try BuiltBinary.run(["-e"])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.hasPrefix("livechat-lua: '-e' needs argument"), run.stderr)
    }

    func testAnErrorInASpawnedCoroutineThatNothingWaitsForFailsTheScript() throws {
        let run = try BuiltBinary.run(["-e", "livechat.spawn(function() error('lost task') end); print('main done')"])
        XCTAssertEqual(run.status, 1, "CI must notice: \(run.stderr)")
        XCTAssertEqual(run.stdout, "main done\n")
        XCTAssertTrue(run.stderr.contains("error in a spawned coroutine: (command line):1: lost task"), run.stderr)
        let waited = try BuiltBinary.run(["-e", "local h = livechat.spawn(function() error('seen') end); print(pcall(h.wait, h))"])
        XCTAssertEqual(waited.status, 0, "an error somebody waited for is theirs to handle: \(waited.stderr)")
    }

    func testJSONOutputRefusesNaNBeforePrintingAnything() throws {
        let run = try BuiltBinary.run(["--json", "-e", "x = 1", "-"], stdin: "return {a = 1}, 0/0")
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stdout, "", "nothing half-written")
        XCTAssertTrue(run.stderr.contains("--json: result 2 cannot be written as JSON: cannot encode -nan (JSON has no NaN or infinity)"), run.stderr)
        XCTAssertFalse(run.stderr.contains("EncodingError") || run.stderr.contains("LuaHost"), run.stderr)
    }

    func testOutOfRangeNumbersOnTheCommandLineAreUsageErrors() throws {
        for value in ["1e12", "inf", "nan", "-1", "0"] {
            let run = try BuiltBinary.run(["--timeout", value, "-e", "print(1)"])
            XCTAssertEqual(run.status, 2, value)
            XCTAssertTrue(run.stderr.contains("'--timeout' expects seconds, more than 0 and at most 3600, got '\(value)'"), run.stderr)
        }
        let bulk = try BuiltBinary.run(["bulk", "/nonexistent.csv", "--timeout", "1e12"])
        XCTAssertEqual(bulk.status, 2)
        XCTAssertTrue(bulk.stderr.contains("--timeout expects seconds, more than 0 and at most 3600, got 1000000000000.0"), bulk.stderr)
        let memory = try BuiltBinary.run(["--max-memory", "99999999999999999999G", "-e", "print(1)"])
        XCTAssertEqual(memory.status, 2)
    }

    func testOsExitStatusIsKept() throws {
        XCTAssertEqual(try BuiltBinary.run(["-e", "os.exit(7)"]).status, 7)
        XCTAssertEqual(try BuiltBinary.run(["-e", "os.exit(false)"]).status, 1)
        XCTAssertEqual(try BuiltBinary.run(["-e", "os.exit(true)"]).status, 0)
    }

    func testShebangLineIsSkipped() throws {
        let path = try script("shebang.lua", "#!/usr/bin/env livechat-lua\nprint('ran')\n")
        XCTAssertEqual(try BuiltBinary.run([path]).stdout, "ran\n")
    }

    func testSigintInterruptsARunawayScript() throws {
        let process = Process()
        process.executableURL = BuiltBinary.url
        process.arguments = ["-e", "io.stdout:write('spinning\\n'); io.stdout:flush(); while true do end"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Wait until the loop is running, then Ctrl-C it.
        _ = out.fileHandleForReading.availableData
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(process.isRunning, "the script stopped")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(stderr.hasPrefix("livechat-lua: interrupted!"), stderr)
    }
}

import Foundation
import XCTest

/// The command line against the reference interpreter: the same inputs run through `lua5.4` and
/// through livechat-lua give the same output and exit status (the program name in messages aside).
final class LuaCompatibilityTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("livechat-lua-compat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "print('script', ...)\nprint(#arg, arg[0], arg[-1] ~= nil)\n".write(to: directory.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        try "local M = {}\nfunction M.hi() return 'hi from mod' end\nreturn M\n".write(to: directory.appendingPathComponent("mod.lua"), atomically: true, encoding: .utf8)
        try "print('init file ran')\n".write(to: directory.appendingPathComponent("init.lua"), atomically: true, encoding: .utf8)
        try "error('boom')\n".write(to: directory.appendingPathComponent("fail.lua"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs the reference interpreter with the same inputs.
    func reference(_ arguments: [String], environment: [String: String], stdin: String?) throws -> BinaryRun {
        try BuiltBinary.run(arguments, executable: URL(fileURLWithPath: "/usr/bin/lua5.4"), environment: environment,
                            stdin: stdin, currentDirectory: directory)
    }

    /// Asserts both interpreters agree on stdout, exit status and (names aside) stderr.
    /// `usageStatus`: the one documented difference, a usage error's status (2 in every command
    /// of ours, 1 in lua's).
    func assertSameAsLua(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                         usageStatus: Int32? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let theirs = try reference(arguments, environment: environment, stdin: stdin)
        let ours = try BuiltBinary.run(arguments, environment: environment, stdin: stdin, currentDirectory: directory)
        if let usageStatus {
            XCTAssertEqual(theirs.status, 1, "lua's usage status", file: file, line: line)
            XCTAssertEqual(ours.status, usageStatus, "exit status of \(arguments)", file: file, line: line)
        } else {
            XCTAssertEqual(ours.status, theirs.status, "exit status of \(arguments)", file: file, line: line)
        }
        // arg[-n] holds the interpreter's own path, which differs: compare lines that don't print it.
        XCTAssertEqual(ours.stdout, theirs.stdout, "stdout of \(arguments)", file: file, line: line)
        let normalized = theirs.stderr.replacingOccurrences(of: "/usr/bin/lua5.4: ", with: "livechat-lua: ")
        XCTAssertEqual(firstLine(ours.stderr), firstLine(normalized), "stderr of \(arguments)", file: file, line: line)
    }

    func firstLine(_ text: String) -> String { String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "") }

    func testScriptWithArguments() throws { try assertSameAsLua(["s.lua", "a", "b c"]) }
    func testExecuteOptions() throws { try assertSameAsLua(["-e", "x = 6", "-e", "print(x * 7)"]) }
    func testExecuteThenScript() throws { try assertSameAsLua(["-e", "print'first'", "s.lua", "1"]) }
    func testRequireOption() throws { try assertSameAsLua(["-l", "mod", "-e", "print(mod.hi())"], environment: ["LUA_PATH": "./?.lua"]) }
    func testRequireIntoGlobalOption() throws {
        // `-l g=mod` is newer than Debian's lua5.4 (5.4.4); check ours directly.
        let run = try BuiltBinary.run(["-l", "m=mod", "-e", "print(m.hi(), mod)"], environment: ["LUA_PATH": "./?.lua"], currentDirectory: directory)
        XCTAssertEqual(run.stdout, "hi from mod\tnil\n", run.stderr)
    }
    /// A C module (as LuaRocks builds them: no link to liblua, its Lua API symbols resolved when
    /// it is loaded) is required through LUA_CPATH as the reference interpreter does.
    func testCModuleFromLuaCPathIsRequired() throws {
        try """
            #include <lua.h>
            #include <lauxlib.h>
            static int twice(lua_State *L) { lua_pushinteger(L, 2 * luaL_checkinteger(L, 1)); return 1; }
            int luaopen_cmod(lua_State *L) {
                luaL_Reg functions[] = {{"twice", twice}, {NULL, NULL}};
                luaL_newlib(L, functions);
                return 1;
            }
            """.write(to: directory.appendingPathComponent("cmod.c"), atomically: true, encoding: .utf8)
        let compiler = try BuiltBinary.run(
            ["clang", "-shared", "-fPIC", "-I/usr/include/lua5.4", "-o", "cmod.so", "cmod.c"],
            executable: URL(fileURLWithPath: "/usr/bin/env"), currentDirectory: directory)
        XCTAssertEqual(compiler.status, 0, compiler.stderr)
        try assertSameAsLua(["-e", "print(require('cmod').twice(21))"], environment: ["LUA_CPATH": "./?.so"])
        let ours = try BuiltBinary.run(["-e", "print(require('cmod').twice(21))"], environment: ["LUA_CPATH": "./?.so"],
                                       currentDirectory: directory)
        XCTAssertEqual(ours.stdout, "42\n", ours.stderr)
    }

    func testLuaPathIsHonoured() throws { try assertSameAsLua(["-e", "print(require('mod').hi())"], environment: ["LUA_PATH": "./?.lua"]) }
    func testIgnoreEnvironmentOption() throws {
        let environment = ["LUA_PATH": "./custom/?.lua", "LUA_INIT": "print('init')"]
        try assertSameAsLua(["-E", "-e", "print(package.path:find('custom', 1, true) ~= nil)"], environment: environment)
        try assertSameAsLua(["-e", "print(package.path:find('custom', 1, true) ~= nil)"], environment: environment)
    }
    func testLuaInitChunk() throws { try assertSameAsLua(["-e", "print('main')"], environment: ["LUA_INIT": "print('init chunk')"]) }
    func testLuaInitFile() throws { try assertSameAsLua(["-e", "print('main')"], environment: ["LUA_INIT": "@init.lua"]) }
    func testVersionedLuaInitWins() throws {
        try assertSameAsLua(["-e", "print('main')"], environment: ["LUA_INIT": "print('plain')", "LUA_INIT_5_4": "print('versioned')"])
    }
    func testLuaInitErrorStopsTheRun() throws { try assertSameAsLua(["-e", "print('never')"], environment: ["LUA_INIT": "error('bad init')"]) }
    func testWarningsOption() throws { try assertSameAsLua(["-W", "-e", "warn('careful')", "-e", "print('after')"]) }
    func testWarningsOffByDefault() throws { try assertSameAsLua(["-e", "warn('hidden') print('shown')"]) }
    func testDoubleDashEndsOptions() throws { try assertSameAsLua(["--", "s.lua", "-e"]) }
    func testDashReadsStdin() throws { try assertSameAsLua(["-", "x", "y"], stdin: "print('stdin', ...)") }
    func testStdinWhenNotATerminal() throws { try assertSameAsLua([], stdin: "print(1 + 1)") }
    func testRuntimeErrorStatusAndMessage() throws { try assertSameAsLua(["fail.lua"]) }
    func testSyntaxErrorInExecute() throws { try assertSameAsLua(["-e", "x ="]) }
    func testUnknownOption() throws { try assertSameAsLua(["-z"], usageStatus: 2) }
    func testMissingArgumentOfExecute() throws { try assertSameAsLua(["-e"], usageStatus: 2) }
    func testMissingScript() throws { try assertSameAsLua(["missing.lua"]) }
    func testOsExitCodes() throws {
        try assertSameAsLua(["-e", "os.exit(3)"])
        try assertSameAsLua(["-e", "os.exit(false)"])
    }
    func testErrorObjectWithoutMessage() throws { try assertSameAsLua(["-e", "error({})"]) }
    func testErrorObjectWithTostring() throws {
        try assertSameAsLua(["-e", "error(setmetatable({}, {__tostring = function() return 'custom error' end}))"])
    }
    func testInteractiveOptionWithPipedInput() throws {
        // -i after a script: the prompt reads the piped lines; both print the same values.
        let ours = try BuiltBinary.run(["-i", "-e", "x = 41"], stdin: "print(x + 1)\n", currentDirectory: directory)
        XCTAssertEqual(ours.status, 0, ours.stderr)
        XCTAssertTrue(ours.stdout.contains("42"), ours.stdout)
    }
}

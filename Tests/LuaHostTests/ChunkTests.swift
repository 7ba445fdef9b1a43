import CLuaShim
import LuaHost
import XCTest

/// Loading and running chunks: names, syntax errors, runtime errors with tracebacks, globals and
/// modules, each leaving the stack balanced.
final class ChunkTests: XCTestCase {
    func testSyntaxErrorIsTypedAndNamesTheChunk() throws {
        let state = try LuaState()
        XCTAssertThrowsError(try state.load("x = = 1", name: "=input")) { error in
            let error = error as! LuaError
            XCTAssertEqual(error.kind, .syntax)
            XCTAssertEqual(error.message, "input:1: unexpected symbol near '='")
        }
        XCTAssertEqual(state.top, 0)
    }

    func testRuntimeErrorCarriesMessageAndTraceback() throws {
        let state = try LuaState()
        XCTAssertThrowsError(try state.run("local function inner() error('deep failure') end\ninner()", name: "@job.lua")) { error in
            let error = error as! LuaError
            XCTAssertEqual(error.kind, .runtime)
            XCTAssertEqual(error.message, "job.lua:1: deep failure")
            let traceback = error.traceback ?? ""
            XCTAssertTrue(traceback.hasPrefix("stack traceback:"), traceback)
            XCTAssertTrue(traceback.contains("job.lua:1: in"), traceback)
            XCTAssertTrue(traceback.contains("job.lua:2: in main chunk"), traceback)
        }
        XCTAssertEqual(state.top, 0)
    }

    func testNonStringErrorObjectIsDescribed() throws {
        let state = try LuaState()
        XCTAssertThrowsError(try state.run("error({code = 1})")) { error in
            XCTAssertEqual((error as? LuaError)?.message, "(error object is a table value)")
        }
        XCTAssertThrowsError(try state.run("error(setmetatable({}, {__tostring = function() return 'custom' end}))")) { error in
            XCTAssertEqual((error as? LuaError)?.message, "custom")
        }
        XCTAssertEqual(state.top, 0)
    }

    func testGlobalsAndModulesAreReachableFromLua() throws {
        let state = try LuaState()
        try state.setGlobal("answer", 42)
        XCTAssertEqual(try state.global("answer"), 42)
        XCTAssertEqual(try state.global("missing"), nil)
        try state.registerModule("greet", functions: ["hello": { args in .value(.string("hello, \(args.string(1) ?? "?")")) }], values: ["version": "1"])
        XCTAssertEqual(try state.run("return greet.hello('lua'), require('greet').version, require('greet') == greet"), ["hello, lua", "1", true])
        XCTAssertEqual(state.top, 0)
    }

    func testCallGlobalPassesArgumentsAndReturnsAllResults() throws {
        let state = try LuaState()
        try state.run("function pair(a, b) return b, a end")
        XCTAssertEqual(try state.call(global: "pair", 1, "two"), ["two", 1])
        XCTAssertEqual(state.top, 0)
    }

    func testBinaryChunksAreRefusedInTextMode() throws {
        let state = try LuaState()
        try state.run("bytecode = string.dump(function() return 1 end)")
        guard case .string(let code) = try state.global("bytecode") else { return XCTFail("no bytecode") }
        XCTAssertThrowsError(try state.load(code.bytes, name: "=dump", mode: "t")) { error in
            XCTAssertTrue((error as! LuaError).message.contains("attempt to load a binary chunk"))
        }
        try state.load(code.bytes, name: "=dump", mode: "b")
        try state.call(arguments: 0, results: 1)
        XCTAssertEqual(try state.value(at: -1), 1)
        state.pop()
    }

    func testEmptyChunkRuns() throws {
        let state = try LuaState()
        XCTAssertEqual(try state.run(""), [])
    }
}

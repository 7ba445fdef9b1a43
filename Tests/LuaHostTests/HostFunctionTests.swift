import CLuaShim
import LuaHost
import XCTest

/// Swift functions called from Lua: arguments, results, errors raised on Swift's behalf, and
/// the lifetime of the closures Lua holds.
final class HostFunctionTests: XCTestCase {
    func testSwiftFunctionReceivesArgumentsAndReturnsResults() throws {
        let state = try LuaState()
        try state.setGlobal("add") { args in
            guard let a = args.integer(1), let b = args.integer(2) else { return .argumentError(1, "number expected") }
            return .values([.integer(a + b), .string("sum")])
        }
        XCTAssertEqual(state.top, 0)
        XCTAssertEqual(try state.run("return add(2, 40)"), [42, "sum"])
        XCTAssertEqual(state.top, 0)
    }

    func testStackIsBalancedAroundEveryKindOfReturn() throws {
        let state = try LuaState()
        let returns: [String: LuaReturn] = [
            "none": .none, "one": .value("x"), "many": .values([1, 2, 3]),
            "table": .value(["a": [1, 2]]), "err": .error("boom"), "argerr": .argumentError(2, "bad"),
            "errvalue": .errorValue(["code": 7]),
        ]
        for (name, result) in returns {
            try state.setGlobal(name) { _ in result }
        }
        XCTAssertEqual(state.top, 0)
        for name in returns.keys.sorted() {
            let before = state.top
            _ = try state.run("pcall(\(name), 1, 2, 3); return true")
            XCTAssertEqual(state.top, before, "after \(name)")
        }
    }

    func testErrorReturnedBySwiftIsRaisedWithPosition() throws {
        let state = try LuaState()
        try state.setGlobal("fail") { _ in .error("something went wrong") }
        XCTAssertEqual(try state.run("local ok, msg = pcall(function() fail() end); return ok, msg", name: "=script"), [false, "script:1: something went wrong"])
        XCTAssertThrowsError(try state.run("fail()", name: "@job.lua")) { error in
            let error = error as! LuaError
            XCTAssertEqual(error.message, "job.lua:1: something went wrong")
            XCTAssertTrue(error.traceback?.contains("in function 'fail'") ?? false, error.traceback ?? "no traceback")
        }
        XCTAssertEqual(state.top, 0)
    }

    func testArgumentErrorReadsLikeTheStandardLibrary() throws {
        let state = try LuaState()
        try state.registerModule("svc", functions: ["create": { _ in .argumentError(1, "field 'x' expected string, got number") }])
        let result = try state.run("return select(2, pcall(function() svc.create({x = 1}) end))", name: "=t")
        XCTAssertEqual(result, ["t:1: bad argument #1 to 'create' (field 'x' expected string, got number)"])
        // Called by pcall directly there is no calling line, and the name is the global one, as
        // with the standard library's own functions.
        XCTAssertEqual(try state.run("return select(2, pcall(svc.create))"), ["bad argument #1 to 'svc.create' (field 'x' expected string, got number)"])
    }

    func testErrorValueKeepsItsTable() throws {
        let state = try LuaState()
        try state.setGlobal("fail") { _ in .errorValue(["kind": "auth", "status": 401]) }
        XCTAssertEqual(try state.run("local ok, e = pcall(fail); return e.kind, e.status"), ["auth", 401])
    }

    func testSwiftErrorCaughtByPcallHundredThousandTimesKeepsMemoryStable() throws {
        let state = try LuaState()
        try state.setGlobal("fail") { args in .error("failure number \(args.integer(1) ?? 0)") }
        let loop = "local n = 0; for i = 1, 50000 do local ok, e = pcall(fail, i); if not ok then n = n + 1 end end; return n"
        XCTAssertEqual(try state.run(loop), [50000])
        state.collectGarbage()
        let luaAfterFirst = state.memoryUsed
        let residentAfterFirst = residentBytes()
        XCTAssertEqual(try state.run(loop), [50000])
        state.collectGarbage()
        // The second 50,000 errors cost nothing lasting: Lua's heap is back where it was, and the
        // process did not grow by more than a couple of MiB (no leaked Swift strings or boxes).
        XCTAssertLessThan(abs(state.memoryUsed - luaAfterFirst), 16 * 1024)
        XCTAssertLessThan(residentBytes() - residentAfterFirst, 4 << 20)
        XCTAssertEqual(state.top, 0)
    }

    final class DeinitCounter: @unchecked Sendable {
        var count = 0
    }

    final class Tracked {
        let counter: DeinitCounter
        init(_ counter: DeinitCounter) { self.counter = counter }
        deinit { counter.count += 1 }
    }

    func testClosuresAreReleasedWhenTheStateCloses() throws {
        let counter = DeinitCounter()
        do {
            let state = try LuaState()
            for i in 0..<10 {
                let tracked = Tracked(counter)
                try state.setGlobal("f\(i)") { _ in _ = tracked; return .none }
            }
            XCTAssertEqual(try state.run("f3(); return 1"), [1])
            XCTAssertEqual(counter.count, 0, "closures live while Lua can call them")
        }
        XCTAssertEqual(counter.count, 10, "closing the state released every closure")
    }

    func testClosureIsReleasedWhenLuaCollectsIt() throws {
        let counter = DeinitCounter()
        let state = try LuaState()
        let tracked = Tracked(counter)
        try state.push { _ in _ = tracked; return .none }
        try state.setGlobalFromTop("g")
        _ = consume tracked
        XCTAssertEqual(counter.count, 0)
        try state.run("g = nil")
        state.collectGarbage()
        XCTAssertEqual(counter.count, 1)
    }

    func testYieldFromSwiftSuspendsTheCoroutine() throws {
        let state = try LuaState()
        try state.setGlobal("wait") { args in .yield([.string("waiting"), args.value1]) }
        let out = try state.run("""
            local co = coroutine.create(function(x) local r = wait(x); return 'resumed with ' .. r end)
            local ok1, tag, v = coroutine.resume(co, 5)
            local ok2, final = coroutine.resume(co, 'answer')
            return tag, v, final
            """)
        XCTAssertEqual(out, ["waiting", 5, "resumed with answer"])
    }

    func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = Int(text.split(separator: " ")[1]) ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

extension LuaArguments {
    fileprivate var value1: LuaValue { (try? value(1)) ?? .nil }
}

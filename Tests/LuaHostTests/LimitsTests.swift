import CLuaShim
import Foundation
@testable import LuaHost
import XCTest

/// The memory cap and the interrupt: a runaway script is stopped and the host lives on.
final class LimitsTests: XCTestCase {
    func testScriptOverTheMemoryCapGetsNotEnoughMemoryAndTheStateLivesOn() throws {
        let state = try LuaState(memoryLimit: 4 << 20)
        XCTAssertEqual(state.memoryLimit, 4 << 20)
        XCTAssertThrowsError(try state.run("local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(100) .. i end")) { error in
            let error = error as! LuaError
            XCTAssertEqual(error.kind, .memory)
            XCTAssertEqual(error.message, "not enough memory")
        }
        state.collectGarbage()
        XCTAssertLessThan(state.memoryUsed, 4 << 20)
        XCTAssertEqual(try state.run("return 1 + 1"), [2], "the state still works after the failure")
        XCTAssertEqual(state.top, 0)
    }

    func testMemoryErrorInsideLuaIsCatchableByPcall() throws {
        let state = try LuaState(memoryLimit: 2 << 20)
        let out = try state.run("local ok, e = pcall(function() return ('x'):rep(8 * 1024 * 1024) end); return ok, e")
        XCTAssertEqual(out, [false, "not enough memory"])
    }

    func testPushingFromSwiftOverTheCapThrowsInsteadOfCrashing() throws {
        let state = try LuaState(memoryLimit: 1 << 20)
        let big = LuaValue.string(LuaString(bytes: [UInt8](repeating: 65, count: 2 << 20)))
        XCTAssertThrowsError(try state.push(big)) { error in
            XCTAssertEqual((error as? LuaError)?.kind, .memory)
        }
        XCTAssertEqual(state.top, 0, "a failed push leaves nothing behind")
        XCTAssertEqual(try state.run("return 'still alive'"), ["still alive"])
    }

    func testSwiftFunctionResultOverTheCapBecomesALuaError() throws {
        let state = try LuaState(memoryLimit: 1 << 20)
        try state.setGlobal("huge") { _ in .value(.string(LuaString(bytes: [UInt8](repeating: 66, count: 2 << 20)))) }
        XCTAssertEqual(try state.run("local ok, e = pcall(huge); return ok, e"), [false, "not enough memory"])
    }

    func testRaisingTheCapLetsTheStateGrowAgain() throws {
        let state = try LuaState(memoryLimit: 1 << 20)
        XCTAssertThrowsError(try state.run("return ('y'):rep(2 * 1024 * 1024)"))
        state.memoryLimit = nil
        XCTAssertEqual(try state.run("return #('y'):rep(2 * 1024 * 1024)"), [.integer(2 << 20)])
    }

    func testInterruptStopsAnInfiniteLoop() throws {
        let state = try LuaState()
        let interrupter = state.interrupter
        let started = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { interrupter.interrupt() }
        XCTAssertThrowsError(try state.run("while true do end", name: "=loop")) { error in
            let error = error as! LuaError
            XCTAssertTrue(error.isInterrupt, error.message)
            XCTAssertEqual(error.message, "interrupted!")
        }
        // The loop ran until the interrupt and no longer: not a hang.
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        state.interrupter.clear()
        XCTAssertEqual(try state.run("return 'usable'"), ["usable"])
    }

    func testInterruptStopsALoopInsideACoroutine() throws {
        let state = try LuaState()
        let interrupter = state.interrupter
        try state.setGlobal("mark") { args in
            // The scheduler's duty: tell the interrupter which coroutine runs.
            interrupter.setRunning(args.L)
            return .none
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { interrupter.interrupt() }
        let out = try state.run("""
            local co = coroutine.create(function() mark(); while true do end end)
            return coroutine.resume(co)
            """, name: "=co")
        XCTAssertEqual(out, [false, "interrupted!"])
    }

    func testSigintInterruptsRunningCode() throws {
        let state = try LuaState()
        clshim_sigint_catch(state.L)
        defer { clshim_sigint_release() }
        let before = clshim_sigint_count()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { kill(getpid(), SIGINT) }
        XCTAssertThrowsError(try state.run("local i = 0; while true do i = i + 1 end", name: "=spin")) { error in
            XCTAssertEqual((error as? LuaError)?.message, "interrupted!")
        }
        XCTAssertEqual(clshim_sigint_count(), before + 1)
    }
}

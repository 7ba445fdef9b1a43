import CLuaShim
import Foundation
import LuaHost
import XCTest

/// The coroutine scheduler: host functions that park their coroutine while Swift works, many
/// coroutines in flight at once, spawn/wait/sleep, and calls where yielding is impossible.
final class SchedulerTests: XCTestCase {
    var state: LuaState!

    override func setUpWithError() throws {
        state = try LuaState()
        let scheduler = state.scheduler
        try state.registerModule("tasks", functions: try scheduler.taskFunctions().merging([
            // An asynchronous echo: answers after `delay` seconds on a Swift task.
            "echo": { [unowned scheduler] args in
                let value = (try? args.value(1)) ?? .nil
                let delay = args.number(2) ?? 0
                return scheduler.suspend(args) {
                    try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                    return .values([value])
                }
            },
            "fail": { [unowned scheduler] args in
                scheduler.suspend(args) { .failure("remote failure") }
            },
        ]) { a, _ in a })
    }

    override func tearDown() { state = nil }

    /// Runs a chunk through the scheduler and returns its results.
    func runScheduled(_ chunk: String) throws -> [LuaValue] {
        let base = state.top
        try state.load(chunk, name: "=test")
        try state.scheduler.run(arguments: 0)
        return try state.popResults(above: base)
    }

    func testMainChunkRunsAsACoroutineAndAsyncCallsReturnValues() throws {
        XCTAssertEqual(try runScheduled("return tasks.echo('hello'), coroutine.isyieldable()"), ["hello", true])
        XCTAssertEqual(state.top, 0)
    }

    func testSpawnedCoroutinesOverlapTheirWaits() throws {
        // Ten 0.3 s waits in parallel finish long before 3 s; the order of completion follows the
        // delays, not the order of spawning.
        let out = try runScheduled("""
            local order = {}
            local handles = {}
            for i = 1, 10 do
              handles[i] = tasks.spawn(function() tasks.echo(i, 0.3 - i * 0.02); order[#order + 1] = i; return i * i end)
            end
            local sum = 0
            for i = 1, 10 do sum = sum + handles[i]:wait() end
            return sum, order[1], order[10]
            """)
        XCTAssertEqual(out, [385, 10, 1])
    }

    func testWaitReturnsAllResultsOfAFinishedTask() throws {
        XCTAssertEqual(try runScheduled("""
            local h = tasks.spawn(function(a, b) return a + b, 'two', nil, 4 end, 1, 2)
            tasks.sleep(0.01)
            return h:wait()
            """), [3, "two", nil, 4])
    }

    func testErrorInSpawnedTaskIsRaisedByWait() throws {
        let out = try runScheduled("""
            local h = tasks.spawn(function() tasks.sleep(0.01); error('task broke') end)
            local ok, err = pcall(h.wait, h)
            return ok, err
            """)
        XCTAssertEqual(out, [false, "test:1: task broke"])
    }

    func testUnwaitedTaskErrorIsReportedWithTraceback() throws {
        var reported: [LuaError] = []
        state.scheduler.reportUnobservedError = { reported.append($0) }
        _ = try runScheduled("tasks.spawn(function() local x = nil; return x.field end)")
        XCTAssertEqual(reported.count, 1)
        XCTAssertTrue(reported[0].message.contains("attempt to index a nil value"), reported[0].message)
        XCTAssertTrue(reported[0].traceback?.contains("stack traceback") ?? false)
    }

    func testRunWaitsForSpawnedTasksBeforeReturning() throws {
        let out = try runScheduled("""
            done = false
            tasks.spawn(function() tasks.sleep(0.05); done = true end)
            return 'main finished first'
            """)
        XCTAssertEqual(out, ["main finished first"])
        XCTAssertEqual(try state.global("done"), true)
    }

    func testFailureOutcomeRaisesInTheCoroutine() throws {
        XCTAssertEqual(try runScheduled("return pcall(tasks.fail)"), [false, "remote failure"])
    }

    func testMainChunkErrorIsThrownWithTraceback() throws {
        XCTAssertThrowsError(try runScheduled("tasks.echo(1)\nerror('main broke')")) { error in
            let error = error as! LuaError
            XCTAssertEqual(error.message, "test:2: main broke")
            XCTAssertTrue(error.traceback?.contains("test:2:") ?? false, error.traceback ?? "")
        }
        XCTAssertEqual(state.top, 0)
    }

    func testCallsThatCannotYieldWaitInPlace() throws {
        // table.sort's comparator and a __index metamethod cannot yield: the call still works.
        let out = try runScheduled("""
            local t = {3, 1, 2}
            table.sort(t, function(a, b) return tasks.echo(a) < tasks.echo(b) end)
            local proxy = setmetatable({}, {__index = function(_, k) return tasks.echo(k .. '!') end})
            return t[1], t[3], proxy.hi
            """)
        XCTAssertEqual(out, [1, 3, "hi!"])
    }

    func testAsyncCallOutsideTheSchedulerWaitsInPlace() throws {
        XCTAssertEqual(try state.run("return tasks.echo('plain')"), ["plain"])
    }

    func testBareCoroutineYieldInATaskJustLetsOthersRun() throws {
        XCTAssertEqual(try runScheduled("""
            local log = {}
            local a = tasks.spawn(function() log[#log+1] = 'a1'; coroutine.yield(); log[#log+1] = 'a2' end)
            local b = tasks.spawn(function() log[#log+1] = 'b1'; coroutine.yield(); log[#log+1] = 'b2' end)
            a:wait(); b:wait()
            return table.concat(log, ' ')
            """), ["a1 b1 a2 b2"])
    }

    func testUserCoroutinesStillWorkInsideTasks() throws {
        XCTAssertEqual(try runScheduled("""
            local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
            return gen(), gen(), gen()
            """), [1, 2, 3])
    }

    func testDeadlockIsReportedNotHung() throws {
        XCTAssertThrowsError(try runScheduled("""
            local h
            h = tasks.spawn(function() tasks.sleep(0); h2:wait() end)
            h2 = tasks.spawn(function() h:wait() end)
            h:wait()
            """)) { error in
            XCTAssertTrue((error as! LuaError).message.contains("deadlock"), "\(error)")
        }
    }

    func testBadArgumentsAreArgumentErrors() throws {
        XCTAssertEqual(try runScheduled("return select(2, pcall(function() tasks.spawn(42) end))"),
                       ["test:1: bad argument #1 to 'spawn' (function expected, got number)"])
        XCTAssertEqual(try runScheduled("return select(2, pcall(function() tasks.sleep(-1) end))"),
                       ["test:1: bad argument #1 to 'sleep' (seconds from 0 to 1000000 expected, got -1)"])
        XCTAssertEqual(try runScheduled("return select(2, pcall(function() tasks.sleep(2^62) end))"),
                       ["test:1: bad argument #1 to 'sleep' (seconds from 0 to 1000000 expected, got 4.6116860184274e+18)"])
        XCTAssertEqual(try runScheduled("return select(2, pcall(function() tasks.sleep('soon') end))"),
                       ["test:1: bad argument #1 to 'sleep' (number expected, got string)"])
    }

    func testSchedulerCanRunAgainAfterAFailure() throws {
        XCTAssertThrowsError(try runScheduled("tasks.spawn(function() tasks.sleep(10) end); error('stop')"))
        XCTAssertEqual(try runScheduled("return tasks.echo('again')"), ["again"])
        XCTAssertEqual(state.top, 0)
    }
}

extension SchedulerTests {
    func testFinishedTasksWhoseHandlesAreGoneAreReleased() throws {
        // 2,000 tasks, each returning a 10 KB string, whose handles are dropped at once: the
        // state's memory stays bounded instead of holding every result until the run ends.
        state.collectGarbage()
        let before = state.memoryUsed
        let out = try runScheduled("""
            local peak = 0
            for i = 1, 2000 do
              tasks.spawn(function() tasks.sleep(0); return string.rep('x', 10000) .. i end)
              if i % 100 == 0 then
                tasks.sleep(0.01)
                collectgarbage()
                peak = math.max(peak, collectgarbage('count'))
              end
            end
            return peak
            """)
        let peakKiB = try XCTUnwrap(out.first?.numberValue)
        XCTAssertLessThan(peakKiB * 1024 - Double(before), 8 * 1024 * 1024, "2,000 results of 10 KB would be 20 MB")
    }
}

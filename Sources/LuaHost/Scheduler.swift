import CLuaShim
import Foundation
import Synchronization

/// What an asynchronous host operation hands back to the coroutine that waited for it.
public enum LuaOutcome: Sendable {
    /// Push the call's results onto the coroutine's stack and return how many there are.
    case results(@Sendable (LuaStack) throws -> Int32)
    /// Raise this message in the coroutine.
    case failure(String)

    /// Results that are plain values.
    public static func values(_ values: [LuaValue]) -> LuaOutcome {
        .results { stack in
            for value in values { try stack.push(value) }
            return Int32(values.count)
        }
    }
}

/// Runs Lua code as coroutines on the one thread that owns the state, and resumes each when the
/// asynchronous work it waits for completes, as OpenResty does.
///
/// A host function that does I/O calls `suspend`: the work runs as a Swift task while the
/// calling coroutine is parked, and other coroutines run meanwhile. Where a coroutine cannot
/// yield (inside a metamethod, an iterator of `table.sort`, a plain `state.run`), `suspend`
/// waits in place instead. The main chunk is itself a coroutine, and a run ends when it and
/// every coroutine it spawned have finished.
public final class LuaScheduler {
    unowned let state: LuaState

    /// Called with every error of a spawned coroutine that nothing waited for, with its
    /// traceback; by default printed on stderr (a host names itself in front by setting its own).
    /// Such errors are never dropped silently.
    public var reportUnobservedError: (LuaError) -> Void = { error in
        FileHandle.standardError.write(Data("error in a spawned coroutine: \(error.description)\n".utf8))
    }

    /// At a prompt: a run ends when its main coroutine does, and the coroutines it spawned go on
    /// in later runs (a later line can wait for, list or cancel them), progressing while a run
    /// goes. Otherwise a run ends when every coroutine it spawned has finished.
    public var tasksOutliveRuns = false

    /// How many errors of spawned coroutines nobody waited for: a script with any has failed
    /// (its exit status says so), even though its main chunk ran to the end.
    public private(set) var unobservedErrorCount = 0

    /// A coroutine the scheduler runs.
    final class Coroutine {
        enum Status { case running, finished, failed }
        let id: Int
        let thread: OpaquePointer
        let ref: Int32
        var status = Status.running
        /// Coroutines parked in `wait` on this one.
        var waiters: [Coroutine] = []
        /// Whether the result or error was handed to somebody.
        var observed = false
        /// The number of results left on the finished thread's stack.
        var resultCount: Int32 = 0
        /// The error, with its traceback, when it failed.
        var error: LuaError?
        /// Why it is parked: an operation id, a coroutine it waits for, or nothing (runnable).
        var parkedOn: Int?
        var waitingFor: Coroutine?
        /// Whether Lua collected the handle: then nothing can wait for it once it stops.
        var handleCollected = false

        init(id: Int, thread: OpaquePointer, ref: Int32) {
            self.id = id
            self.thread = thread
            self.ref = ref
        }
    }

    private struct Resumption {
        let coroutine: Coroutine
        let outcome: LuaOutcome
    }

    private var ready: [Resumption] = []
    private var readyHead = 0
    private var coroutines: [OpaquePointer: Coroutine] = [:]
    private var coroutinesByID: [Int: Coroutine] = [:]
    /// Ids of task handles Lua has collected; their coroutines are dropped once finished, so that
    /// a long run of spawned work (an iterator prefetching pages) holds only what is reachable.
    /// Filled by the handles' __gc, which may run inside any allocation: acted on at safe points.
    private var collectedHandles: [Int] = []
    private var nextCoroutineID = 0
    private var nextOperationID = 0
    private var operations: [Int: (coroutine: Coroutine, task: Task<Void, Never>)] = [:]
    private let inbox = Inbox()
    private var liveCount = 0
    private var sigintsSeen = clshim_sigint_count()

    init(state: LuaState) {
        self.state = state
    }

    /// Completed operations, posted from any thread, taken by the scheduler's thread.
    final class Inbox: @unchecked Sendable {
        private let items = Mutex<[(Int, LuaOutcome)]>([])
        private let signal = DispatchSemaphore(value: 0)

        func post(_ id: Int, _ outcome: LuaOutcome) {
            items.withLock { $0.append((id, outcome)) }
            signal.signal()
        }

        /// Waits up to `timeout` for at least one item, then takes them all.
        func take(timeout: DispatchTime) -> [(Int, LuaOutcome)] {
            guard signal.wait(timeout: timeout) == .success else { return [] }
            let taken = items.withLock { items in
                defer { items.removeAll() }
                return items
            }
            // The semaphore counted each post; consume the extra counts of the ones taken.
            for _ in 1..<max(1, taken.count) { _ = signal.wait(timeout: .now()) }
            return taken
        }
    }

    // MARK: - Running

    /// Runs the function below `arguments` on the state's stack as the main coroutine, with
    /// every coroutine it spawns, until all have finished. The main coroutine's results are
    /// left on the stack in place of the function; its error is thrown with its traceback.
    public func run(arguments: Int32) throws {
        let L = state.L
        let main = try makeCoroutine(movingFunctionWith: arguments, from: L, isMain: true)
        ready.append(Resumption(coroutine: main, outcome: .results { _ in arguments }))
        defer { tasksOutliveRuns ? endRun(main) : reset() }
        if tasksOutliveRuns { takeCompletions() }
        try loop(until: main)
        main.observed = true
        if let error = main.error { throw error }
        // Hand the results over to the main stack.
        let count = main.resultCount
        guard lua_checkstack(L, count + 1) != 0 else { throw LuaError(kind: .memory, message: "stack overflow") }
        lua_xmove(main.thread, L, count)
    }

    /// Runs ready coroutines, and waits for operations, until `main` and every other
    /// coroutine have finished.
    private func loop(until main: Coroutine) throws {
        while true {
            while readyHead < ready.count {
                let next = ready[readyHead]
                readyHead += 1
                if readyHead > 1024 && readyHead * 2 > ready.count {
                    ready.removeFirst(readyHead)
                    readyHead = 0
                }
                resume(next.coroutine, with: next.outcome)
                // A failed main chunk ends the run at once; its spawned coroutines are dropped.
                if main.status == .failed { return }
                dropCollected()
            }
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
            if liveCount == 0 { return }
            if tasksOutliveRuns && main.status != .running {
                // The line is done; what its tasks have received meanwhile is handed to them
                // before the prompt returns, and they go on at the next line.
                if takeCompletions() { continue }
                return
            }
            if operations.isEmpty {
                // Every live coroutine waits for another: nothing can ever wake them.
                throw LuaError(kind: .runtime, message: "deadlock: every coroutine is waiting for another")
            }
            try collectCompletions()
        }
    }

    /// Waits for at least one operation to complete (or for Ctrl-C) and readies its coroutine.
    private func collectCompletions() throws {
        while true {
            if clshim_sigint_count() != sigintsSeen {
                sigintsSeen = clshim_sigint_count()
                throw LuaError(kind: .runtime, message: "interrupted!")
            }
            let taken = inbox.take(timeout: .now() + .milliseconds(50))
            var any = false
            for (id, outcome) in taken {
                guard let operation = operations.removeValue(forKey: id) else { continue }
                operation.coroutine.parkedOn = nil
                ready.append(Resumption(coroutine: operation.coroutine, outcome: outcome))
                any = true
            }
            if any { return }
        }
    }

    /// Resumes a coroutine with an outcome and handles how it stops: parked, finished, failed.
    private func resume(_ coroutine: Coroutine, with outcome: LuaOutcome) {
        let thread = coroutine.thread
        state.interrupter.setRunning(thread)
        clshim_sigint_retarget(thread)
        defer {
            state.interrupter.setRunning(nil)
            clshim_sigint_retarget(state.L)
        }
        var count: Int32 = 0
        do {
            switch outcome {
            case .results(let push):
                count = try push(LuaStack(thread))
            case .failure(let message):
                clshim_pushraisemarker(thread)
                try LuaStack(thread).pushString(message)
                count = 2
            }
        } catch {
            // Results could not even be pushed (memory): the coroutine gets that error instead.
            lua_settop(thread, 0)
            clshim_pushraisemarker(thread)
            lua_pushnil(thread)
            count = 2
        }
        var results: Int32 = 0
        let status = clshim_resume(thread, state.L, count, &results)
        switch status {
        case LUA_YIELD:
            lua_settop(thread, lua_gettop(thread) - results)
            if coroutine.parkedOn == nil && coroutine.waitingFor == nil {
                // A bare coroutine.yield() in a task: let the others run, then go on.
                ready.append(Resumption(coroutine: coroutine, outcome: .values([])))
            }
        case LUA_OK:
            coroutine.status = .finished
            coroutine.resultCount = results
            finish(coroutine)
        default:
            // As lua.c's message handler does: a string error gets a traceback; another value is
            // shown through its __tostring, or described by its type (with a traceback).
            var wantsTraceback: Int32 = 1
            var error: LuaError
            if status != LUA_ERRMEM, clshim_errormessage(thread, -1, &wantsTraceback) == LUA_OK {
                let text = LuaStack(thread).string(at: -1) ?? ""
                error = LuaError(kind: LuaError.kind(ofStatus: status), message: text)
                lua_settop(thread, lua_gettop(thread) - 2)
            } else {
                error = LuaStack(thread).popError(status: status)
            }
            if status != LUA_ERRMEM, wantsTraceback != 0, clshim_traceback(state.L, thread, nil, 0) == LUA_OK {
                error.traceback = LuaStack(state.L).string(at: -1)
                state.pop()
            }
            lua_settop(thread, 0)
            coroutine.status = .failed
            coroutine.error = error
            finish(coroutine)
        }
    }

    /// Wakes the coroutines waiting for one that stopped, and forgets it when nobody can ask.
    private func finish(_ coroutine: Coroutine) {
        liveCount -= 1
        let waiters = coroutine.waiters
        coroutine.waiters = []
        for waiter in waiters {
            waiter.waitingFor = nil
            ready.append(Resumption(coroutine: waiter, outcome: outcome(of: coroutine)))
        }
        if coroutine.status == .failed && waiters.isEmpty && !coroutine.observed && coroutine.id != 0 {
            // Reported now, while it is fresh; a later wait() still raises it.
            if let error = coroutine.error {
                unobservedErrorCount += 1
                reportUnobservedError(error)
            }
        }
        if coroutine.handleCollected && waiters.isEmpty { forget(coroutine) }
    }

    /// What `wait` returns for a stopped coroutine: copies of its results, or its error raised.
    private func outcome(of coroutine: Coroutine) -> LuaOutcome {
        coroutine.observed = true
        // The thread travels as an address: the closure runs on the scheduler's own thread.
        let address = UInt(bitPattern: coroutine.thread)
        let count = coroutine.resultCount
        if coroutine.status == .failed {
            let error = coroutine.error ?? LuaError(kind: .runtime, message: "coroutine failed")
            return .results { stack in
                clshim_pushraisemarker(stack.L)
                try stack.pushString(error.message)
                return 2
            }
        }
        return .results { stack in
            let thread = OpaquePointer(bitPattern: address)!
            guard lua_checkstack(stack.L, count + 1) != 0, lua_checkstack(thread, count + 1) != 0 else {
                throw LuaError(kind: .memory, message: "stack overflow")
            }
            for i in 1...max(count, 1) where i <= count { lua_pushvalue(thread, i) }
            lua_xmove(thread, stack.L, count)
            return count
        }
    }

    /// Drops the finished coroutines whose handles Lua has collected (nobody can wait for them).
    private func dropCollected() {
        guard !collectedHandles.isEmpty else { return }
        let ids = collectedHandles
        collectedHandles.removeAll()
        for id in ids {
            guard let coroutine = coroutinesByID[id] else { continue }
            coroutine.handleCollected = true
            if coroutine.status != .running { forget(coroutine) }
        }
    }

    /// Removes a stopped coroutine and releases its thread.
    private func forget(_ coroutine: Coroutine) {
        coroutines[coroutine.thread] = nil
        coroutinesByID[coroutine.id] = nil
        _ = clshim_unref(state.L, coroutine.ref)
    }

    /// Readies the coroutines whose operations have completed, without waiting; whether any was.
    @discardableResult
    private func takeCompletions() -> Bool {
        var any = false
        for (id, outcome) in inbox.take(timeout: .now()) {
            guard let operation = operations.removeValue(forKey: id) else { continue }
            operation.coroutine.parkedOn = nil
            ready.append(Resumption(coroutine: operation.coroutine, outcome: outcome))
            any = true
        }
        return any
    }

    /// The end of a run whose tasks outlive it: the main coroutine goes (stopped, if a Ctrl-C
    /// or an error ended the run while it ran); the others stay, with their operations.
    private func endRun(_ main: Coroutine) {
        if main.status == .running { stop(main, error: nil) }
        for waiter in main.waiters { waiter.waitingFor = nil }
        forget(main)
        state.interrupter.clear()
    }

    /// Stops a running coroutine: its operation is cancelled, it is never resumed again, and
    /// whoever waits for it gets `error` (nothing when nil).
    private func stop(_ coroutine: Coroutine, error: LuaError?) {
        for (id, operation) in operations where operation.coroutine === coroutine {
            operation.task.cancel()
            operations[id] = nil
        }
        ready.removeAll { $0.coroutine === coroutine }
        if readyHead > ready.count { readyHead = ready.count }
        coroutine.waitingFor?.waiters.removeAll { $0 === coroutine }
        coroutine.waitingFor = nil
        coroutine.parkedOn = nil
        coroutine.status = .failed
        coroutine.error = error
        coroutine.observed = true  // a stop is asked for: not an unobserved failure
        finish(coroutine)
    }

    /// Drops every coroutine and cancels every operation: the end of a run, or its abort.
    private func reset() {
        for (_, operation) in operations { operation.task.cancel() }
        operations.removeAll()
        let all = Array(coroutines.values)
        coroutines.removeAll()
        coroutinesByID.removeAll()
        collectedHandles.removeAll()
        for coroutine in all { _ = clshim_unref(state.L, coroutine.ref) }
        ready.removeAll()
        readyHead = 0
        liveCount = 0
        state.interrupter.clear()
    }

    /// Creates a coroutine running the function below `arguments` on thread `from`'s stack
    /// (moved over with its arguments).
    private func makeCoroutine(movingFunctionWith arguments: Int32, from: OpaquePointer, isMain: Bool = false) throws -> Coroutine {
        var thread: OpaquePointer?
        try LuaStack(from).check(clshim_newthread(from, &thread))
        guard let thread else { throw LuaError(kind: .memory, message: "not enough memory") }
        // from: … f args… thread
        var ref: Int32 = 0
        try LuaStack(from).check(clshim_ref(from, &ref))
        guard lua_checkstack(thread, arguments + 2) != 0 else {
            _ = clshim_unref(from, ref)
            throw LuaError(kind: .memory, message: "stack overflow")
        }
        lua_xmove(from, thread, arguments + 1)
        nextCoroutineID += 1
        let coroutine = Coroutine(id: isMain ? 0 : nextCoroutineID, thread: thread, ref: ref)
        coroutines[thread] = coroutine
        coroutinesByID[coroutine.id] = coroutine
        liveCount += 1
        return coroutine
    }

    // MARK: - For host functions

    /// Whether `thread` is a coroutine of the current run that can park.
    private func parkable(_ thread: OpaquePointer) -> Coroutine? {
        guard lua_isyieldable(thread) != 0, let coroutine = coroutines[thread] else { return nil }
        return coroutine
    }

    /// Runs `operation` for the host function being called: the calling coroutine parks until
    /// it completes, or, where it cannot park, the state waits in place.
    public func suspend(_ arguments: LuaArguments, operation: @escaping @Sendable () async -> LuaOutcome) -> LuaReturn {
        if let coroutine = parkable(arguments.L) {
            nextOperationID += 1
            let id = nextOperationID
            let inbox = self.inbox
            let task = Task { inbox.post(id, await operation()) }
            operations[id] = (coroutine, task)
            coroutine.parkedOn = id
            return .yield([])
        }
        return waitInPlace(arguments, operation: operation)
    }

    /// Runs an operation to completion while the state waits; Ctrl-C cancels it.
    private func waitInPlace(_ arguments: LuaArguments, operation: @escaping @Sendable () async -> LuaOutcome) -> LuaReturn {
        final class Box: @unchecked Sendable { var outcome: LuaOutcome? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            box.outcome = await operation()
            done.signal()
        }
        let seen = clshim_sigint_count()
        while done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if clshim_sigint_count() != seen {
                task.cancel()
                return .error("interrupted!")
            }
        }
        switch box.outcome {
        case .results(let push)?:
            do {
                return .pushed(try push(arguments.stack))
            } catch {
                return .error((error as? LuaError)?.message ?? "\(error)")
            }
        case .failure(let message)?:
            return .error(message)
        case nil:
            return .error("operation ended without an outcome")
        }
    }

    // MARK: - Tasks for scripts: spawn, wait, sleep

    static let handleMetatable = "LuaHost.Task"

    /// `spawn`, `wait` and `sleep` for a module table; installs the handles' metatable, so that
    /// `handle:wait()` works.
    public func taskFunctions() throws -> [String: LuaHostFunction] {
        let L = state.L
        let stack = LuaStack(L)
        var block: UnsafeMutableRawPointer?
        // Creating one handle creates the registry's metatable; then fill it in.
        try stack.check(clshim_newuserdata(L, MemoryLayout<Int>.size, Self.handleMetatable, &block))
        block?.storeBytes(of: -1, as: Int.self)
        defer { lua_settop(L, lua_gettop(L) - 1) }
        _ = lua_getmetatable(L, -1)
        defer { lua_settop(L, lua_gettop(L) - 1) }
        try stack.push(["wait": .nil])
        try stack.push(function: waitFunction())
        try stack.check(clshim_setfield(L, -2, "wait"))
        try stack.push(function: cancelFunction())
        try stack.check(clshim_setfield(L, -2, "cancel"))
        try stack.check(clshim_setfield(L, -2, "__index"))
        try stack.pushString("Task")
        try stack.check(clshim_setfield(L, -2, "__name"))
        try stack.push(function: { [unowned self] arguments in
            if let block = clshim_testudata(arguments.L, 1, Self.handleMetatable) {
                self.collectedHandles.append(block.load(as: Int.self))
            }
            return .none
        })
        try stack.check(clshim_setfield(L, -2, "__gc"))
        return ["spawn": spawnFunction(), "wait": waitFunction(), "sleep": sleepFunction(), "tasks": tasksFunction()]
    }

    /// `spawn(fn, ...)`: starts fn(...) as a coroutine and returns its handle.
    public func spawnFunction() -> LuaHostFunction {
        return { [unowned self] arguments in
            guard arguments.type(1) == LUA_TFUNCTION else {
                return .argumentError(1, "function expected, got \(arguments.typeName(1))")
            }
            let L = arguments.L
            guard !self.coroutines.isEmpty else {
                return .error("spawn needs a running scheduler")
            }
            do {
                // Copy the function and its arguments to the top, then move them to the new thread.
                guard lua_checkstack(L, arguments.count + 3) != 0 else { return .error("stack overflow") }
                for i in 1...arguments.count { lua_pushvalue(L, i) }
                let count = arguments.count - 1
                let coroutine = try self.makeCoroutine(movingFunctionWith: count, from: L)
                self.ready.append(Resumption(coroutine: coroutine, outcome: .results { _ in count }))
                var block: UnsafeMutableRawPointer?
                try arguments.stack.check(clshim_newuserdata(L, MemoryLayout<Int>.size, Self.handleMetatable, &block))
                block?.storeBytes(of: coroutine.id, as: Int.self)
                return .pushed(1)
            } catch {
                return .error((error as? LuaError)?.message ?? "\(error)")
            }
        }
    }

    /// `wait(handle)`: the handle's results once its coroutine finishes, or its error raised.
    public func waitFunction() -> LuaHostFunction {
        return { [unowned self] arguments in
            guard let block = clshim_testudata(arguments.L, 1, Self.handleMetatable) else {
                return .argumentError(1, "task handle expected, got \(arguments.typeName(1))")
            }
            let id = block.load(as: Int.self)
            guard let target = self.coroutinesByID[id] else {
                return .error("the task belongs to a run that has ended")
            }
            switch target.status {
            case .failed:
                target.observed = true
                return .errorValue(.string(target.error?.message ?? "task failed"))
            case .finished:
                guard case .results(let push) = self.outcome(of: target) else { return .none }
                do { return .pushed(try push(arguments.stack)) } catch { return .error("\(error)") }
            case .running:
                break
            }
            guard let current = self.parkable(arguments.L) else {
                return .error("cannot wait for a task here (not inside a coroutine the scheduler runs)")
            }
            if target === current { return .error("a task cannot wait for itself") }
            current.waitingFor = target
            target.waiters.append(current)
            return .yield([])
        }
    }

    /// `handle:cancel()`: stops the task (its request in flight is cancelled); whoever waits
    /// for it gets the error `cancelled`. True when it was running, false when it had stopped.
    public func cancelFunction() -> LuaHostFunction {
        return { [unowned self] arguments in
            guard let block = clshim_testudata(arguments.L, 1, Self.handleMetatable) else {
                return .argumentError(1, "task handle expected, got \(arguments.typeName(1))")
            }
            guard let target = self.coroutinesByID[block.load(as: Int.self)], target.status == .running else {
                return .value(.boolean(false))
            }
            if let current = self.parkable(arguments.L), current === target {
                return .error("a task cannot cancel itself")
            }
            self.stop(target, error: LuaError(kind: .runtime, message: "cancelled"))
            return .value(.boolean(true))
        }
    }

    /// `tasks()`: the spawned tasks the scheduler holds, oldest first, as `{id =, status =}`
    /// (`running`, `finished`, `failed`): at a prompt, those earlier lines started.
    public func tasksFunction() -> LuaHostFunction {
        return { [unowned self] _ in
            // Id 0 is the running line's (or script's) main coroutine: not a task.
            let listed = self.coroutinesByID.values.filter { $0.id != 0 }.sorted { $0.id < $1.id }
            let items: [LuaValue] = listed.map { coroutine in
                var table = LuaTable()
                table["id"] = .integer(Int64(coroutine.id))
                switch coroutine.status {
                case .running: table["status"] = .string("running")
                case .finished: table["status"] = .string("finished")
                case .failed: table["status"] = .string(coroutine.error == nil ? "stopped" : "failed")
                }
                return .table(table)
            }
            return .value(.table(LuaTable(sequence: items)))
        }
    }

    /// The longest `sleep`, in seconds (about 11.5 days): far beyond any script's need, and
    /// far inside what a nanosecond count can hold.
    public static let longestSleep = 1_000_000.0

    /// `sleep(seconds)`: parks the coroutine for that long.
    public func sleepFunction() -> LuaHostFunction {
        return { [unowned self] arguments in
            guard let seconds = arguments.number(1) else {
                return .argumentError(1, "number expected, got \(arguments.typeName(1))")
            }
            guard seconds >= 0, seconds <= Self.longestSleep else {
                let shown = (try? arguments.value(1))?.numberText ?? ValuePrinter.format(float: seconds)
                return .argumentError(1, "seconds from 0 to 1000000 expected, got \(shown)")
            }
            return self.suspend(arguments) {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return .values([])
            }
        }
    }
}

extension LuaState {
    /// The state's scheduler, made on first use.
    public var scheduler: LuaScheduler {
        if let scheduler = extensions[LuaScheduler.self] { return scheduler }
        let scheduler = LuaScheduler(state: self)
        extensions[LuaScheduler.self] = scheduler
        return scheduler
    }
}

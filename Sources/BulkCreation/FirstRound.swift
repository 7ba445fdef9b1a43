import Foundation
import LiveChat
import Synchronization

/// A bulk run's first round of creates. A row is sent once its `attempt` event is on disk
/// (`AttemptAnnouncer`) and a slot of the adaptive window is free, in a child task of its own
/// that holds the slot until the row's first round ends (`BulkRun.create`, through the client's
/// `createTicket`). A row whose outcome is unknown is left in `inDoubt` for the run to settle
/// once nothing else is in flight.
final class FirstRound: Sendable {
    typealias Doubt = (row: BulkRow, request: CreateTicketRequest, since: Date)

    private let run: BulkRun
    private let announcer: AttemptAnnouncer?
    private let window: AdaptiveConcurrency
    private let inDoubt: Collected<Doubt>
    private let state: Mutex<State>

    private struct State {
        var rows: [(BulkRow, CreateTicketRequest)]
        /// Whether every row is in `rows`; until then, more may be appended.
        var complete: Bool
        /// Waiting for a row to be appended, or for the end of them.
        var waiting: CheckedContinuation<Void, Never>?
        /// How many rows were started; the rest never left.
        var started = 0
    }

    /// `complete`: whether `rows` are all the rows; if not, `append` brings the rest and
    /// `finishAppending` says there is no more.
    init(run: BulkRun, rows: [(BulkRow, CreateTicketRequest)], complete: Bool = true,
         announcer: AttemptAnnouncer?, window: AdaptiveConcurrency, inDoubt: Collected<Doubt>) {
        self.run = run
        state = Mutex(State(rows: rows, complete: complete))
        self.announcer = announcer
        self.window = window
        self.inDoubt = inDoubt
    }

    /// Sends every row's first round, appended ones too; returns when each row is settled, in
    /// doubt, or, after a cancellation, never started. Cancelling the calling task cancels the
    /// creates in flight: their rows end in doubt or not attempted.
    func send() async {
        await withDiscardingTaskGroup { group in
            var index = 0
            while let (row, request) = await row(at: index) {
                guard await window.acquire() else { break }
                let announced = await announcement(of: index)
                guard !Task.isCancelled else {
                    window.release()
                    break
                }
                index += 1
                state.withLock { $0.started = index }
                let time: Date
                switch announced {
                case .success(let at):
                    time = at
                case .failure(let problem):
                    window.release()
                    run.deliver(BulkOutcome(row: row.number, key: row.key, status: .failed,
                                            error: LiveChatError(kind: .configuration, message: "\(problem)")))
                    continue
                }
                group.addTask { [run, inDoubt] in
                    switch await run.create(row, request, announcedAt: time, holdingSlot: true, deferringDoubt: true) {
                    case .settled(let outcome): run.deliver(outcome)
                    case .inDoubt(let since): inDoubt.add((row, request, since))
                    case .reportedWhenDurable: break
                    }
                }
            }
        }
    }

    /// When row `index`'s attempt event is on disk (now, without a journal).
    private func announcement(of index: Int) async -> AttemptAnnouncer.Announced {
        guard let announcer else { return .success(Date()) }
        return await withCheckedContinuation { continuation in
            announcer.whenAnnounced(index) { continuation.resume(returning: $0) }
        }
    }

    /// Row `index`, once it is there; nil when there are no more.
    private func row(at index: Int) async -> (BulkRow, CreateTicketRequest)? {
        while true {
            let ready = state.withLock { state -> (BulkRow, CreateTicketRequest)?? in
                if index < state.rows.count { return .some(state.rows[index]) }
                return state.complete ? .some(nil) : nil
            }
            if let ready { return ready }
            await withCheckedContinuation { continuation in
                let wake = state.withLock { state -> Bool in
                    if index < state.rows.count || state.complete { return true }
                    state.waiting = continuation
                    return false
                }
                if wake { continuation.resume() }
            }
        }
    }

    /// How many rows were started (sent, or failed before sending); the rest never left. Asked
    /// once `send` has returned.
    var startedCount: Int { state.withLock { $0.started } }

    /// More rows, sent after those before them (from any thread).
    func append(_ more: [(BulkRow, CreateTicketRequest)]) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.rows += more
            defer { state.waiting = nil }
            return state.waiting
        }
        waiter?.resume()
    }

    /// No more rows will come (from any thread).
    func finishAppending() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.complete = true
            defer { state.waiting = nil }
            return state.waiting
        }
        waiter?.resume()
    }
}

import Foundation
import LiveChat
import NIOCore

/// A bulk run's first round of creates, sent the way a load generator sends: on the client's
/// event loop, each answer settles its row and frees a slot for the next row's request, with
/// no task per row.
///
/// A row is sent once its `attempt` event is on disk (`AttemptAnnouncer`) and a slot of the
/// adaptive window is free; it holds the slot until its first round ends. A create that simply
/// succeeds is recorded and reported from the journal (`BulkRun.settleWhenDurable`).
/// Anything else goes on in a task of its own, with the slot, through `BulkRun.create`,
/// which judges the attempt already made by the retry and doubt rules of every attempt: a
/// failure, an answer to decode, a 429 pause in force, or no idle connection to send on (the
/// task's call opens one, or waits for one).
///
/// Every member but `send` and the initialiser runs on the event loop.
final class FirstRound: @unchecked Sendable {
    private let run: BulkRun
    private let client: LiveChatClient
    private var rows: [(BulkRow, CreateTicketRequest)]
    /// Whether every row is in `rows`; until then, more may be appended.
    private var complete: Bool
    private let announcer: AttemptAnnouncer?
    private let window: AdaptiveConcurrency
    private let executor: EventLoopTaskExecutor
    private let eventLoop: EventLoop
    private let inDoubt: Collected<(row: BulkRow, request: CreateTicketRequest, since: Date)>

    /// The next row to start.
    private var next = 0
    /// Rows started and not yet settled.
    private var active = 0
    private var cancelled = false
    /// Creates on the wire, by row index; a nil handle while one is being started.
    private var onTheWire: [Int: LiveChatClient.CreateInFlight?] = [:]
    /// Rows that went on in a task, by row index.
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var finished: CheckedContinuation<Void, Never>?
    /// Whether `fill` is running: a row settled from within it frees a slot its loop takes.
    private var filling = false

    /// `complete`: whether `rows` are all the rows; if not, `append` brings the rest and
    /// `finishAppending` says there is no more.
    init(run: BulkRun, client: LiveChatClient, rows: [(BulkRow, CreateTicketRequest)], complete: Bool = true,
         announcer: AttemptAnnouncer?, window: AdaptiveConcurrency, executor: EventLoopTaskExecutor,
         inDoubt: Collected<(row: BulkRow, request: CreateTicketRequest, since: Date)>) {
        self.run = run
        self.client = client
        self.rows = rows
        self.complete = complete
        self.announcer = announcer
        self.window = window
        self.executor = executor
        self.eventLoop = executor.eventLoop
        self.inDoubt = inDoubt
    }

    /// Sends every row's first round, appended ones too; returns when each row is settled, in
    /// doubt (in `inDoubt`), or, after a cancellation, never started. Cancelling the calling task ends the creates in
    /// flight: their rows end in doubt.
    func send() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                eventLoop.execute {
                    self.finished = continuation
                    self.fill()
                }
            }
        } onCancel: {
            eventLoop.execute { self.cancel() }
        }
    }

    /// How many rows were started (sent, or handed to a task); the rest never left. Asked once
    /// `send` has returned.
    func startedCount() async -> Int {
        (try? await eventLoop.submit { self.next }.get()) ?? 0
    }

    /// More rows, sent after those before them (from any thread).
    func append(_ more: [(BulkRow, CreateTicketRequest)]) {
        eventLoop.execute {
            self.rows += more
            self.fill()
        }
    }

    /// No more rows will come (from any thread).
    func finishAppending() {
        eventLoop.execute {
            self.complete = true
            self.finishIfDone()
        }
    }

    private func cancel() {
        cancelled = true
        for case let flight? in onTheWire.values { flight.cancel() }
        for task in tasks.values { task.cancel() }
        finishIfDone()
    }

    /// Starts rows while the window has room.
    private func fill() {
        guard !filling else { return }
        filling = true
        defer { filling = false }
        while !cancelled, next < rows.count, window.tryAcquire() {
            let index = next
            next += 1
            active += 1
            guard let announcer else {
                start(index, announcedAt: Date())
                continue
            }
            announcer.whenAnnounced(index) { announced in
                if self.eventLoop.inEventLoop {
                    self.announced(index, announced)
                } else {
                    self.eventLoop.execute { self.announced(index, announced) }
                }
            }
        }
        finishIfDone()
    }

    private func announced(_ index: Int, _ announced: AttemptAnnouncer.Announced) {
        switch announced {
        case .success(let time):
            guard !cancelled else {
                // Never sent: the row gets no outcome, as a row never started.
                window.release()
                settled(index)
                return
            }
            start(index, announcedAt: time)
        case .failure(let problem):
            window.release()
            let row = rows[index].0
            run.deliver(BulkOutcome(row: row.number, key: row.key, status: .failed,
                                    error: LiveChatError(kind: .configuration, message: "\(problem)")))
            settled(index)
        }
    }

    /// Sends a row whose attempt is on disk, holding a window slot.
    private func start(_ index: Int, announcedAt time: Date) {
        let (row, request) = rows[index]
        if !run.options.keepTickets {
            onTheWire[index] = .some(nil)
            let flight = client.startCreateTicketID(request) { ended in
                self.ended(index, announcedAt: time, ended)
            }
            if let flight {
                // Unless it ended already (a connection found closed at once).
                if onTheWire[index] != nil { onTheWire[index] = flight }
                return
            }
            onTheWire[index] = nil
        }
        goOnInTask(index, row, request, announcedAt: time, firstAttempt: nil)
    }

    private func ended(_ index: Int, announcedAt time: Date, _ ended: LiveChatClient.StartedCreate) {
        onTheWire[index] = nil
        let (row, request) = rows[index]
        switch ended {
        case .created(let id):
            window.release()
            run.settleWhenDurable(row, ticketID: id, ticket: nil)
            settled(index)
        case .unfinished(let attempt):
            goOnInTask(index, row, request, announcedAt: time, firstAttempt: attempt)
        case .notSent:
            goOnInTask(index, row, request, announcedAt: time, firstAttempt: nil)
        }
    }

    /// The row's round goes on in a task of its own, on the same event loop, with the row's
    /// window slot: the row counts against the window until it settles.
    private func goOnInTask(_ index: Int, _ row: BulkRow, _ request: CreateTicketRequest, announcedAt time: Date,
                            firstAttempt: LiveChatClient.FirstAttempt?) {
        let (run, inDoubt) = (self.run, self.inDoubt)
        let task = Task(executorPreference: executor) {
            switch await run.create(row, request, announcedAt: time, firstAttempt: firstAttempt, holdingSlot: true,
                                    deferringDoubt: true) {
            case .settled(let outcome): run.deliver(outcome)
            case .inDoubt(let since): inDoubt.add((row, request, since))
            case .reportedWhenDurable: break
            }
            self.eventLoop.execute {
                self.tasks[index] = nil
                self.settled(index)
            }
        }
        tasks[index] = task
        if cancelled { task.cancel() }
    }

    private func settled(_ index: Int) {
        active -= 1
        fill()
    }

    private func finishIfDone() {
        guard active == 0, (complete && next >= rows.count) || cancelled, let finished else { return }
        self.finished = nil
        finished.resume()
    }
}

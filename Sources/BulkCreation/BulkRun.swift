import Foundation
import LiveChat
import Synchronization

/// One row of a bulk run, checked before anything is sent.
public struct BulkRow: Sendable {
    /// 1-based position in the caller's array.
    public let number: Int
    /// The row's identity across runs: the key column's value, or (without one) the row's
    /// content fingerprint and its place among identical rows (`fnv1a64:…#2`), so that rows
    /// inserted, removed or moved around it change nothing for it.
    public var key: String
    /// The request, or why the row cannot be sent (an argument error's message).
    public let request: Result<CreateTicketRequest, LiveChatError>
    /// `BulkRun.fingerprint` of the request (empty when it cannot be sent), made once, while
    /// rows are checked in parallel: the journal records it with every attempt, and compares it.
    public let fingerprint: String

    public init(number: Int, key: String, request: Result<CreateTicketRequest, LiveChatError>) {
        self.number = number
        self.key = key
        self.request = request
        fingerprint = (try? request.get()).map(BulkRun.fingerprint) ?? ""
    }
}

/// What a whole run did, as `bulk --json` prints it.
public struct BulkSummary: Encodable, Sendable {
    public var rows: Int
    public var created: Int
    public var createdBefore: Int
    public var changed: Int
    public var failed: Int
    public var notAttempted: Int
    /// Of `created`, the tickets found by searching after an attempt whose answer was lost.
    public var reconciled: Int
    public var dryRun: Bool
    public var seconds: Double
    public var ticketsPerSecond: Double
    public var results: String?
    public var journal: String?
    /// Stopped by Ctrl-C: the same command resumes it.
    public var interrupted = false
}

/// What happened to one row.
public struct BulkOutcome: Sendable {
    /// `skipped`: created by an earlier run. `changed`: its key was created by an earlier run
    /// from other content; not sent, and a failure of the run.
    public enum Status: String, Sendable {
        case created, skipped, changed, failed
        /// Never sent: the run was stopped first. A rerun sends it.
        case notAttempted = "not attempted"

        /// The status as the results file says it.
        public var text: String { self == .skipped ? "created before" : rawValue }
    }

    public let row: Int
    public let key: String
    public let status: Status
    /// The ticket id: created now, found by reconciliation, or recorded by an earlier run.
    public var ticketID: String? = nil
    /// The ticket as the API returned it, when it was created or found in this run.
    public var ticket: Ticket? = nil
    public var error: LiveChatError? = nil
    /// The ticket was found by searching after an attempt whose outcome was unknown.
    public var reconciled = false

    public init(row: Int, key: String, status: Status, ticketID: String? = nil, ticket: Ticket? = nil,
                error: LiveChatError? = nil, reconciled: Bool = false) {
        self.row = row
        self.key = key
        self.status = status
        self.ticketID = ticketID
        self.ticket = ticket
        self.error = error
        self.reconciled = reconciled
    }
}

/// Bulk ticket creation that loses nothing and never duplicates: every row is created at most
/// once across any number of runs sharing a journal, whatever fails and whenever the process dies.
///
/// A row's life: the journal records `attempt` (synced) before the create is sent (for a row's
/// first round, ahead of time and a batch of rows per sync: `AttemptAnnouncer`), and `created`
/// or `failed` (synced) before the outcome is reported. Each row's rounds run in a task of its own
/// through `create`, which calls the client's `createTicket`; `FirstRound` starts them. A failure that proves nothing was made
/// (429, 503, no connection, a refused request) is retried with backoff, or recorded as failed. A
/// failure after which the ticket may exist (a timeout, a connection lost mid-request, another
/// 5xx) leaves the row in doubt: before any new attempt, the API is searched for a ticket from
/// that requester with that message since the attempt, and a new one is created only if none is
/// found. Rows a previous run left in doubt are reconciled the same way before this run creates
/// anything; rows that fall in doubt during the run, after every other row is done. A search
/// runs only while no other create is in flight, and a found ticket is claimed once: a ticket an
/// identical row has just made (its answer not yet recorded) is never taken for another row's.
public final class BulkRun: @unchecked Sendable {
    public struct Options: Sendable {
        public var concurrency = 8
        /// Rounds of attempts per row at the bulk layer (each round may hold the client's own retries).
        public var maxRounds = 6
        /// The first backoff between rounds; it doubles each round, with full jitter.
        public var baseBackoff: Duration = .milliseconds(250)
        public var maxBackoff: Duration = .seconds(8)
        /// Whether outcomes carry the full ticket (only when a script asked for onResult).
        public var keepTickets = false
        /// Validate only, send nothing.
        public var dryRun = false
        /// Where to write each row's outcome at the end: `.jsonl`/`.json` for JSON lines, else CSV.
        public var resultsPath: String? = nil
        /// Progress on stderr (when it is a terminal) and the final summary line.
        public var progress = true
        /// The run's identity (service, key scheme, mapping), recorded in the journal's `run` event.
        var identity: Journal.RunIdentity? = nil
        /// Told of each failed row as it fails, before the summary line.
        public var onFailure: (@Sendable (BulkOutcome) -> Void)? = nil
        /// Whether outcomes go to `outcomes` one by one; if not, it only says when the run is over.
        public var queuesOutcomes = true

        public init() {}
    }

    /// The rows known when the run starts; `feed` brings the rest, if any.
    let rows: [BulkRow]
    private let feed: RowFeed?
    /// The rows of the run, counted as they arrive (touched by the run's task only).
    private var rowCount: Int
    public let options: Options
    public let outcomes = OutcomeQueue()
    private let client: LiveChatClient?
    private let journal: Journal?
    private let window: AdaptiveConcurrency
    private let progress: BulkProgress
    private var task: Task<Void, Never>?
    private let collected = Collected<BulkOutcome>()
    /// Every row of the run (its number and key), as they arrive: the results file accounts
    /// for each, the summary for the journal's rows that are no longer among them.
    private var seen: [(number: Int, key: String)] = []
    private let summaryBox = Mutex<BulkSummary?>(nil)

    /// The run's counts, once it is over (`outcomes` has finished); nil before.
    public var summary: BulkSummary? { summaryBox.withLock { $0 } }

    /// Ticket ids that are some row's outcome (recorded by earlier runs, or settled in this one).
    private let claims = TicketClaims()

    /// `client` must be the run's own, and is shut down when the run ends.
    /// `window` is the one the client's attempt observer feeds (see `attemptObserver`).
    init(rows: [BulkRow], feed: RowFeed? = nil, client: LiveChatClient?, journal: Journal?, window: AdaptiveConcurrency,
         options: Options) {
        self.rows = rows
        self.feed = feed
        self.rowCount = rows.count
        self.client = client
        self.journal = journal
        self.options = options
        self.window = window
        self.progress = BulkProgress(total: rows.count, enabled: options.progress, dryRun: options.dryRun)
        for case .created(let id, _) in (journal?.loaded ?? [:]).values { _ = claims.claim(id) }
    }

    /// Opens the journal (at `journal`, if any) and the run's own client, and starts a run; or
    /// why it cannot start (no credentials, an unusable journal or results file, a journal of
    /// another run), with nothing sent. `keyScheme` (`content` or `column NAME`) and `mapping`
    /// (`field=column`, sorted) are the run's identity, with the service, recorded in the
    /// journal and compared with a journal's earlier run. With a `feed`, more rows reach the run
    /// after it has started. `configuration` is asked only for a run that sends.
    public static func start(
        rows: [BulkRow], feed: RowFeed? = nil, options: Options, journal path: String?, keyScheme: String,
        mapping: String?, configuration makeConfiguration: () throws -> LiveChatConfiguration
    ) -> Result<(BulkRun, AttemptStats), LiveChatError> {
        let window = AdaptiveConcurrency(maximum: options.concurrency)
        let attemptStats = AttemptStats()
        var client: LiveChatClient?
        var journal: Journal?
        var identity: Journal.RunIdentity?
        if !options.dryRun {
            do {
                // Checked before anything is sent: a results file that cannot be written would
                // otherwise be found out after every ticket was made.
                if let results = options.resultsPath, let problem = BulkResults.writeProblem(results) {
                    throw LiveChatError(kind: .configuration, message: "cannot write the results file \(results): \(problem); nothing was sent")
                }
                var configuration = try makeConfiguration()
                // A connection for every worker, so that the concurrency asked for is what is sent.
                configuration.maxConnections = max(configuration.maxConnections, options.concurrency)
                _ = try configuration.validatedBaseURL()
                // One client for every worker: one connection pool, and one shared 429 pause.
                client = LiveChatClient(configuration: configuration,
                                        onAttempt: BulkRun.attemptObserver(window, attemptStats))
                if let path {
                    let opened = try Journal(path: path)
                    let this = Journal.RunIdentity(
                        service: "\(try configuration.validatedBaseURL()) as \(configuration.login)",
                        keyScheme: keyScheme, mapping: mapping)
                    // The journal's records mean something only for the run that wrote them: rows
                    // created on another service, or keyed another way, would be skipped or sent
                    // twice. A journal with no row yet belongs to any run.
                    if !opened.isEmpty {
                        let differences = opened.lastRun.map { $0.differences(from: this) }
                            ?? ["it was written by an earlier version of livechat-lua"]
                        if !differences.isEmpty {
                            throw LiveChatError(kind: .configuration, message: """
                                the journal \(path) belongs to another run: \(differences.joined(separator: "; ")). \
                                Nothing was sent. To resume that run, repeat its options; to start afresh, give another \
                                journal or move this one away (the rows it created would then be created again)
                                """)
                        }
                    }
                    journal = opened
                    identity = this
                }
            } catch {
                let failure = (error as? LiveChatError) ?? LiveChatError(kind: .configuration, message: "\(error)")
                if let client { Task { try? await client.shutdown() } }
                return .failure(failure)
            }
        }
        var bulkOptions = options
        bulkOptions.identity = identity
        let run = BulkRun(rows: rows, feed: feed, client: client, journal: journal, window: window,
                               options: bulkOptions)
        run.start()
        return .success((run, attemptStats))
    }

    /// The signal an attempt gives the adaptive window: for the client's `onAttempt`.
    static func attemptObserver(_ window: AdaptiveConcurrency, _ stats: AttemptStats) -> @Sendable (LiveChatAttempt) -> Void {
        return { attempt in
            stats.count(attempt, window: window.current)
            if let status = attempt.status, status == 429 || status >= 500 {
                window.recordPushback()
            } else if attempt.failure == .network || attempt.failure == .timeout {
                window.recordPushback()
            } else if attempt.failure == nil, attempt.method == "POST" {
                window.recordSuccess()
            }
        }
    }

    /// Starts the run in the background; outcomes arrive on `outcomes`.
    func start() {
        task = Task { await self.run() }
    }

    /// Stops the run: nothing new is sent; rows in flight end in doubt (the journal says so).
    public func cancel() {
        task?.cancel()
        window.close()
    }

    // MARK: - The run

    private func run() async {
        progress.start()
        defer { progress.finish() }
        var rows = self.rows
        var feed = self.feed
        // Rows a previous run left in doubt are settled before anything is created, wherever they
        // are: with any in the journal, every row is read first. So is a run that sends nothing.
        let journalHasDoubt = journal?.loaded.values.contains { if case .inDoubt = $0 { true } else { false } } ?? false
        if let rest = feed, options.dryRun || client == nil || journalHasDoubt {
            while let chunk = await rest.next() { rows += chunk }
            feed = nil
        }
        rowCount = rows.count
        seen = rows.map { ($0.number, $0.key) }
        progress.setTotal(rowCount)
        let toCreate = sort(rows)
        guard !options.dryRun, client != nil else {
            finishRun()
            return
        }
        // The run's event needs no sync of its own: the journal is written in order, so the sync
        // of the first attempt, which every create waits for, makes it durable too. Should it
        // fail, so does every later record, and each row says why.
        journal?.append([.init(event: "run", key: "", time: Timestamp.string(Date()), service: options.identity?.service,
                               keyScheme: options.identity?.keyScheme, mapping: options.identity?.mapping)]) { _ in }
        // Rows a previous run left in doubt are settled first, before anything is created (a
        // ticket created meanwhile could be taken by a search for another row). Their searches
        // run at once, up to the concurrency; a ticket found is claimed atomically, so no two
        // rows take the same one.
        var queue: [(BulkRow, CreateTicketRequest)] = []
        var doubtful: [(BulkRow, CreateTicketRequest, Date)] = []
        for (row, request, state) in toCreate {
            guard case .inDoubt(let since, let fingerprint)? = state else {
                queue.append((row, request))
                continue
            }
            if let fingerprint, fingerprint != row.fingerprint {
                deliver(BulkOutcome(row: row.number, key: row.key, status: .failed, error: LiveChatError(
                    kind: .validation,
                    message: "row \(row.number) (key \(row.key)) changed since an attempt whose outcome is unknown; check for its ticket by hand, then remove its lines from the journal")))
                continue
            }
            doubtful.append((row, request, since))
        }
        let absent = Collected<(BulkRow, CreateTicketRequest)>()
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() {
                guard next < doubtful.count else { return }
                let (row, request, since) = doubtful[next]
                next += 1
                group.addTask {
                    var state = RowState.inDoubt(since: since)
                    for round in 1...self.options.maxRounds where !Task.isCancelled {
                        if round > 1 { try? await Task.sleep(for: self.backoff(afterRound: round - 1)) }
                        switch await self.lookUp(request, since: since) {
                        case .found(let id, let ticket):
                            let actions = state.handle(.found(ticket: id))
                            if case .settled(let outcome)? = await self.carry(actions, row, state, ticket: ticket) {
                                self.deliver(outcome)
                            }
                            return
                        case .absent:
                            absent.add((row, request))
                            return
                        case .unknown(let error):
                            if round == self.options.maxRounds {
                                self.deliver(BulkOutcome(row: row.number, key: row.key, status: .failed, error: error))
                            }
                        }
                    }
                }
            }
            for _ in 0..<max(1, options.concurrency) { startNext() }
            while await group.next() != nil { startNext() }
        }
        queue = (absent.all + queue).sorted { $0.0.number < $1.0.number }
        let complete = feed == nil
        let announcer = journal.map {
            AttemptAnnouncer(journal: $0, rows: queue, batchSize: Self.announcementBatch(options.concurrency), complete: complete)
        }
        announcer?.startFirstBatch()  // while the first connections open
        let inDoubt = Collected<FirstRound.Doubt>()
        let firstRound = FirstRound(run: self, rows: queue, complete: complete, announcer: announcer,
                                    window: window, inDoubt: inDoubt)
        async let sent: Void = firstRound.send()
        if let feed {
            // The rest of the rows, sent as they arrive. None is in doubt (see above).
            while let chunk = await feed.next() {
                rowCount += chunk.count
                seen += chunk.map { ($0.number, $0.key) }
                progress.setTotal(rowCount)
                // Rows that arrive after a cancellation are not attempted, nor checked.
                if Task.isCancelled { continue }
                let more = sort(chunk).map { ($0.0, $0.1) }
                announcer?.append(more)
                firstRound.append(more)
            }
            announcer?.finishAppending()
            firstRound.finishAppending()
        }
        await sent
        // Every `created` event appended so far is on disk and its row reported.
        try? await journal?.record([])
        // Rows whose attempt was recorded ahead but which were never started (Ctrl-C) never
        // reached the server: recorded so, the rerun sends them without searching first.
        if Task.isCancelled, let announcer, let journal {
            let never = announcer.announcedRows(from: firstRound.startedCount)
            if !never.isEmpty {
                let time = Timestamp.string(Date())
                try? await journal.record(never.map { .init(event: "notSent", key: $0.key, row: $0.number, time: time) })
            }
        }
        // Rows in doubt since this run's own attempt, now that nothing else is in flight (every
        // created row recorded): one at a time, each searched for before it is sent again.
        for (row, request, since) in inDoubt.all.sorted(by: { $0.row.number < $1.row.number }) {
            if Task.isCancelled {
                // Interrupted, not failed: the rerun looks it up, then sends it if need be.
                deliver(BulkOutcome(row: row.number, key: row.key, status: .notAttempted, error: LiveChatError(
                    kind: .cancelled, message: "interrupted while its outcome was unknown: the same command looks it up")))
                continue
            }
            if case .settled(let outcome) = await create(row, request, inDoubtSince: since, deferringDoubt: false) {
                deliver(outcome)
            }
        }
        // Rows never started (cancelled) are listed "not attempted" by finishRun.
        finishRun()
    }

    /// Reports the rows that fail their checks, and those an earlier run created (skipped);
    /// returns the others, with what the journal says of them.
    private func sort(_ rows: [BulkRow]) -> [(BulkRow, CreateTicketRequest, Journal.RowState?)] {
        var toCreate: [(BulkRow, CreateTicketRequest, Journal.RowState?)] = []
        for row in rows {
            switch row.request {
            case .failure(let problem):
                deliver(BulkOutcome(row: row.number, key: row.key, status: .failed, error: problem))
            case .success(let request):
                if options.dryRun { continue }
                let state = journal?.loaded[row.key]
                if case .created(let id, let fingerprint)? = state {
                    if let fingerprint, fingerprint != row.fingerprint {
                        deliver(BulkOutcome(row: row.number, key: row.key, status: .changed, ticketID: id, error: LiveChatError(
                            kind: .validation,
                            message: "row \(row.number) (key \(row.key)) changed since it was created as ticket \(id); not sent")))
                    } else {
                        deliver(BulkOutcome(row: row.number, key: row.key, status: .skipped, ticketID: id))
                    }
                } else {
                    toCreate.append((row, request, state))
                }
            }
        }
        return toCreate
    }

    private func finishRun() {
        var all = collected.all
        let settled = Set(all.map(\.row))
        for (number, key) in seen where !settled.contains(number) {
            all.append(BulkOutcome(row: number, key: key, status: .notAttempted))
        }
        if let journal, !options.dryRun {
            let keys = Set(seen.map(\.key))
            let gone = journal.loaded.filter { !keys.contains($0.key) }
            if !gone.isEmpty, options.progress {
                let tickets = gone.values.compactMap { state -> String? in
                    if case .created(let id, _) = state { return id } else { return nil }
                }.sorted()
                var line = "livechat-lua: \(gone.count) row\(gone.count == 1 ? "" : "s") of the journal \(gone.count == 1 ? "is" : "are") no longer in the file"
                if !tickets.isEmpty {
                    line += " (created as ticket\(tickets.count == 1 ? "" : "s") \(tickets.prefix(10).joined(separator: ", "))\(tickets.count > 10 ? ", …" : ""))"
                }
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        if let path = options.resultsPath {
            do {
                try BulkResults.write(all, rowCount: rowCount, to: path)
            } catch {
                let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { String(cString: strerror(Int32(($0 as? NSError)?.code ?? Int(EIO)))).lowercased() }
                    ?? "the disk may be full"
                FileHandle.standardError.write(Data("livechat-lua: cannot write the results file \(path): \(reason)\n".utf8))
            }
        }
        progress.finish()
        progress.printSummary(journal: journal?.path, results: options.resultsPath)
        let count = { (status: BulkOutcome.Status) in all.filter { $0.status == status }.count }
        let seconds = (progress.elapsedSeconds * 1000).rounded() / 1000
        summaryBox.withLock {
            $0 = BulkSummary(
                rows: rowCount, created: count(.created), createdBefore: count(.skipped), changed: count(.changed),
                failed: count(.failed), notAttempted: count(.notAttempted),
                reconciled: all.filter(\.reconciled).count, dryRun: options.dryRun, seconds: seconds,
                ticketsPerSecond: seconds > 0 ? (Double(count(.created)) / seconds * 10).rounded() / 10 : 0,
                results: options.resultsPath, journal: options.dryRun ? nil : journal?.path)
        }
        outcomes.finish()
        if let client { Task { try? await client.shutdown() } }
    }

    func deliver(_ outcome: BulkOutcome) {
        var kept = outcome
        if !options.keepTickets { kept.ticket = nil }
        collected.add(kept)
        progress.count(kept.status)
        if kept.status == .failed || kept.status == .changed { options.onFailure?(kept) }
        if options.queuesOutcomes { outcomes.push(kept) }
    }

    /// How a create ended: settled (created, found or failed), or in doubt (deferred).
    enum CreateResult {
        case settled(BulkOutcome)
        /// Created; the outcome is reported once its journal event is on disk.
        case reportedWhenDurable
        /// The attempt's outcome is unknown; with `deferringDoubt` the row is left for later.
        case inDoubt(since: Date)
    }

    /// Creates one row, retrying what is safe to retry and reconciling what is in doubt. With
    /// `deferringDoubt`, an attempt whose outcome is unknown ends the call (the run settles the
    /// row once no other create is in flight) instead of being searched for at once.
    ///
    /// The row's `RowState` decides: each event (announced, sent, answered, refused, answer
    /// lost, found, not found, cancelled) gives the actions carried out here, in order; this
    /// function only makes the calls and waits.
    ///
    /// `announcedAt`, when given, is the time of the row's first `attempt` event, already on disk
    /// (recorded ahead by an `AttemptAnnouncer`); later rounds record their own. With
    /// `holdingSlot`, the caller (`FirstRound`) has taken a window slot for the first round,
    /// which this call gives back.
    func create(_ row: BulkRow, _ request: CreateTicketRequest, inDoubtSince doubt: Date? = nil,
                announcedAt: Date? = nil, holdingSlot: Bool = false, deferringDoubt: Bool) async -> CreateResult {
        guard let client else { return .settled(BulkOutcome(row: row.number, key: row.key, status: .failed)) }
        var state = doubt.map { RowState.inDoubt(since: $0) } ?? .pending
        var lastError: LiveChatError?
        for round in 1...options.maxRounds {
            if round > 1 {
                do { try await Task.sleep(for: backoff(afterRound: round - 1)) } catch { break }
            }
            // A first round that FirstRound began holds its window slot already.
            if round > 1 || !holdingSlot {
                guard await window.acquire() else { break }
            }
            defer { window.release() }
            if case .inDoubt(let since) = state {
                if deferringDoubt { return .inDoubt(since: since) }
                switch await lookUp(request, since: since) {
                case .found(let id, let ticket):
                    let actions = state.handle(.found(ticket: id))
                    if let result = await carry(actions, row, state, ticket: ticket) { return result }
                case .absent:
                    state.handle(.notFound)
                case .unknown(let error):
                    // The search failed: the row stays in doubt; searched again next round.
                    lastError = error
                    continue
                }
            }
            let recordedAhead = round == 1 && announcedAt != nil
            let announced = state.handle(.announced(at: recordedAhead ? announcedAt! : Date()))
            if let result = await carry(announced, row, state, attemptOnDisk: recordedAhead) { return result }
            state.handle(.sent)
            do {
                let created = try await client.createTicket(request)
                let actions = state.handle(.answered(ticket: created.id))
                // The whole ticket only when a script wants it. When the run defers doubt, the
                // ticket exists whatever happens now: an unsynced `created` event only leaves
                // the row in doubt for a rerun, which finds the ticket; so the worker does not
                // wait for the sync, and the outcome is reported after it.
                if let result = await carry(actions, row, state, ticket: options.keepTickets ? created : nil,
                                            reportWhenDurable: deferringDoubt) { return result }
            } catch let error as LiveChatError {
                lastError = error
                let actions: [RowState.Action]
                if error.kind == .cancelled {
                    actions = state.handle(.cancelled)
                } else if RetryPolicy.provesNothingWasCreated(by: error) {
                    // Retried while the client's policy says it may help, and rounds are left.
                    actions = state.handle(.refused(reason: error.message, final: !error.retryable || round == options.maxRounds))
                } else {
                    // The ticket may exist: searched for before any new attempt.
                    actions = state.handle(.answerLost)
                }
                if let result = await carry(actions, row, state, error: error) { return result }
            } catch {
                lastError = LiveChatError(kind: .protocol, message: "\(error)")
                state.handle(.answerLost)
            }
        }
        // Out of rounds, or stopped.
        let stopped = Task.isCancelled || lastError?.kind == .cancelled
        if case .inDoubt(let since) = state {
            if deferringDoubt, !stopped { return .inDoubt(since: since) }
            if stopped { return .settled(interrupted(row, inDoubt: true)) }
            var error = lastError ?? LiveChatError(kind: .network, message: "no answer")
            error.message += "; the outcome is unknown: rerun with the same journal to reconcile"
            return .settled(BulkOutcome(row: row.number, key: row.key, status: .failed, error: error))
        }
        // Stopped before sending again (Ctrl-C).
        return .settled(interrupted(row, inDoubt: false))
    }

    /// Carries out the journal's and the report's part of a transition's actions, in order, and
    /// returns the row's outcome when it is reported (nil when the transition reports nothing;
    /// `send` and `search` are the caller's). A `created` record is reported once it is on disk:
    /// awaited, or with `reportWhenDurable` in the background. A record that cannot be made
    /// fails the row. `attemptOnDisk`: the attempt was recorded ahead (`AttemptAnnouncer`).
    private func carry(_ actions: [RowState.Action], _ row: BulkRow, _ state: RowState, ticket: Ticket? = nil,
                       error: LiveChatError? = nil, attemptOnDisk: Bool = false,
                       reportWhenDurable: Bool = false) async -> CreateResult? {
        for action in actions {
            switch action {
            case .record(.attempt(let at), _):
                guard !attemptOnDisk else { continue }
                do {
                    try await journal?.record(.init(event: "attempt", key: row.key, row: row.number,
                                                    time: Timestamp.string(at), fingerprint: row.fingerprint))
                } catch {
                    return .settled(BulkOutcome(row: row.number, key: row.key, status: .failed,
                                                error: LiveChatError(kind: .configuration, message: "\(error)")))
                }
            case .record(.created(let id, let found), _):
                if reportWhenDurable, !found {
                    settleWhenDurable(row, ticketID: id, ticket: ticket)
                    return .reportedWhenDurable
                }
                return .settled(await settle(row, ticketID: id, ticket: ticket, reconciled: found))
            case .record(.failed, _):
                return .settled(await fail(row, error ?? LiveChatError(kind: .network, message: "failed")))
            case .record(.notSent, _):
                try? await journal?.record(.init(event: "notSent", key: row.key, row: row.number, time: Timestamp.string(Date())))
            case .report:
                if case .inDoubt = state { return .settled(interrupted(row, inDoubt: true)) }
                return .settled(interrupted(row, inDoubt: false))
            case .send, .search:
                continue
            }
        }
        return nil
    }

    /// A row the run was stopped on (Ctrl-C): not attempted, not failed; the same command
    /// resumes it (looking it up first when its request may have arrived).
    private func interrupted(_ row: BulkRow, inDoubt: Bool) -> BulkOutcome {
        BulkOutcome(row: row.number, key: row.key, status: .notAttempted, error: LiveChatError(
            kind: .cancelled, message: inDoubt ? "interrupted while its outcome was unknown: the same command looks it up" : "interrupted"))
    }

    /// Records a ticket just created and reports it once the record is on disk, without waiting.
    func settleWhenDurable(_ row: BulkRow, ticketID: String, ticket: Ticket?) {
        _ = claims.claim(ticketID)  // now, before any search can see the ticket
        let created = BulkOutcome(row: row.number, key: row.key, status: .created, ticketID: ticketID, ticket: ticket)
        guard let journal else {
            deliver(created)
            return
        }
        let event = Journal.Event(event: "created", key: row.key, row: row.number, time: Timestamp.string(Date()), ticket: ticketID)
        journal.append([event]) { problem in
            guard let problem else {
                self.deliver(created)
                return
            }
            self.deliver(BulkOutcome(row: row.number, key: row.key, status: .failed, ticketID: ticketID, error: LiveChatError(
                kind: .configuration, message: "ticket \(ticketID) was created but \(problem)")))
        }
    }

    /// Records a created (or found) ticket, then reports it.
    private func settle(_ row: BulkRow, ticketID: String, ticket: Ticket?, reconciled: Bool) async -> BulkOutcome {
        if !reconciled { _ = claims.claim(ticketID) }  // a new ticket: no row has it yet
        do {
            try await journal?.record(.init(event: "created", key: row.key, row: row.number, time: Timestamp.string(Date()),
                                            ticket: ticketID, via: reconciled ? "reconciled" : nil))
        } catch {
            // The ticket exists but the journal could not say so: the row stays in doubt there,
            // and a rerun finds the ticket by reconciliation.
            return BulkOutcome(row: row.number, key: row.key, status: .failed, ticketID: ticketID,
                               error: LiveChatError(kind: .configuration, message: "ticket \(ticketID) was created but \(error)"))
        }
        return BulkOutcome(row: row.number, key: row.key, status: .created, ticketID: ticketID, ticket: ticket,
                           reconciled: reconciled)
    }

    /// Records a failure for good, then reports it.
    private func fail(_ row: BulkRow, _ error: LiveChatError) async -> BulkOutcome {
        try? await journal?.record(.init(event: "failed", key: row.key, row: row.number, time: Timestamp.string(Date()),
                                         error: .init(kind: error.kind.rawValue, status: error.status, message: error.message)))
        return BulkOutcome(row: row.number, key: row.key, status: .failed, error: error)
    }

    /// Rows announced per journal sync: twice the concurrency, 8 to 128.
    static func announcementBatch(_ concurrency: Int) -> Int {
        min(128, max(8, 2 * concurrency))
    }

    /// The wait before a row's next round: the client's `RetryPolicy` backoff (full jitter),
    /// from `baseBackoff` up to `maxBackoff`.
    private func backoff(afterRound round: Int) -> Duration {
        RetryPolicy(baseDelay: options.baseBackoff, maxDelay: options.maxBackoff).backoffDelay(afterAttempt: round)
    }

    // MARK: - Reconciliation

    enum Lookup {
        /// This ticket, now claimed for the row.
        case found(id: String, ticket: Ticket)
        case absent
        /// The search itself failed: the row stays in doubt.
        case unknown(LiveChatError)
    }

    /// Searches for the ticket an attempt in doubt may have made: same requester and content,
    /// created at or after the attempt (less `clockSlack`), not already the outcome of another row.
    /// Every page is read; of the candidates, the one created closest after the attempt is
    /// claimed first, so that a ticket that existed before the attempt is never taken for it.
    private func lookUp(_ request: CreateTicketRequest, since: Date) async -> Lookup {
        guard let client else { return .absent }
        var query = TicketQuery()
        query.requesterMail = request.requesterEmail
        query.query = Self.searchText(for: request)
        query.dateFrom = Timestamp.day(since.addingTimeInterval(-Self.clockSlack))
        query.order = "asc"
        var page = 1
        var candidates: [(ticket: Ticket, created: Date)] = []
        do {
            while true {
                query.page = page
                let result = try await client.listTickets(query)
                for ticket in result.tickets {
                    if let created = Self.creation(of: ticket, matching: request, since: since) { candidates.append((ticket, created)) }
                }
                if page >= result.pages || result.tickets.isEmpty { break }
                page += 1
            }
        } catch {
            var failure = (error as? LiveChatError) ?? LiveChatError(kind: .protocol, message: "\(error)")
            failure.message = "could not check whether an earlier attempt created the ticket: \(failure.message); rerun with the same journal to reconcile"
            return .unknown(failure)
        }
        let ranked = BulkCreation.Reconciliation.ranked(candidates.map { .init(ticket: $0.ticket.id, created: $0.created) }, since: since)
        guard let id = claims.claimFirst(of: ranked), let ticket = candidates.first(where: { $0.ticket.id == id })?.ticket else {
            return .absent  // none, or every one is another row's outcome
        }
        return .found(id: id, ticket: ticket)
    }

    /// Seconds of clock difference allowed between this machine and the service.
    static let clockSlack = BulkCreation.Reconciliation.clockSlack

    /// The `query` filter: a prefix of the message (a substring of it), kept short for the URL.
    static func searchText(for request: CreateTicketRequest) -> String {
        let firstLine = request.message.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(whereSeparator: \.isNewline).first.map(String.init) ?? request.message
        return String(firstLine.prefix(80))
    }

    /// When a listed ticket was created, if it is the one this request would have made at or
    /// after `since` (less `clockSlack`): same requester, subject and message.
    static func creation(of ticket: Ticket, matching request: CreateTicketRequest, since: Date) -> Date? {
        guard ticket.requester.mail.lowercased() == request.requesterEmail.lowercased() else { return nil }
        if let subject = request.subject, ticket.subject != subject { return nil }
        // Every field the ticket carries back: two rows that differ in one must not take each
        // other's ticket.
        let groups = request.groups.flatMap { $0.isEmpty ? nil : $0 } ?? [0]
        if Set(ticket.groups) != Set(groups) { return nil }
        if let assignee = request.assigneeId?.trimmingCharacters(in: .whitespaces),
           ticket.assignee?.id.lowercased() != assignee.lowercased() { return nil }
        if ticket.source.type != (request.sourceType ?? "lc2") { return nil }
        let wanted = request.message.trimmingCharacters(in: .whitespacesAndNewlines)
        for event in ticket.events {
            if case .message(let message) = event {
                guard message.message.trimmingCharacters(in: .whitespacesAndNewlines) == wanted,
                      message.date.timeIntervalSince(since) >= -clockSlack else { return nil }
                return message.date
            }
        }
        return nil
    }

    /// A short, stable hash of the request: FNV-1a over its JSON as `JSONEncoder` writes it with
    /// sorted keys (slashes escaped), the bytes journals have always recorded it by.
    static func fingerprint(_ request: CreateTicketRequest) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (try? encoder.encode(request)) ?? Data() {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return "fnv1a64:" + String(hash, radix: 16)
    }
}

/// Records the rows' first `attempt` events ahead of the sends, a batch of rows per journal
/// sync, instead of one sync per row before each send.
///
/// An `attempt` event says a create may have been sent from then on; recording it early only
/// widens that window. If the run dies, the rows announced but not yet sent are in doubt, and a
/// rerun searches for them before creating them: at most two batches more than were in flight.
/// A row is never sent before its event is on disk.
final class AttemptAnnouncer: Sendable {
    typealias Announced = Result<Date, Journal.Problem>

    private let journal: Journal
    private let batchSize: Int
    private let state: Mutex<State>

    private struct State {
        var rows: [(BulkRow, CreateTicketRequest)]
        /// Whether every row of the run is in `rows`; until then a batch is recorded only whole.
        var complete: Bool
        var batches: [Int: Batch] = [:]

        /// Whether a batch has all its rows.
        func isWhole(_ batch: Int, size: Int) -> Bool {
            complete || (batch + 1) * size <= rows.count
        }
    }

    /// A batch waiting for the rest of its rows, or whose events are being recorded (each with
    /// who waits for them), or recorded.
    private enum Batch {
        case waitingForRows([@Sendable (Announced) -> Void])
        case recording([@Sendable (Announced) -> Void])
        case recorded(Announced)
    }

    init(journal: Journal, rows: [(BulkRow, CreateTicketRequest)], batchSize: Int, complete: Bool = true) {
        self.journal = journal
        self.batchSize = max(1, batchSize)
        state = Mutex(State(rows: rows, complete: complete))
    }

    /// More rows of the run, after those it has.
    func append(_ more: [(BulkRow, CreateTicketRequest)]) {
        recordReady { $0.rows += more }
    }

    /// No more rows will come.
    func finishAppending() {
        recordReady { $0.complete = true }
    }

    /// Changes the rows, then records the batches that were waiting for rows and now have them.
    private func recordReady(_ change: (inout State) -> Void) {
        let size = batchSize
        let ready = state.withLock { state -> [Int] in
            change(&state)
            var ready: [Int] = []
            for (batch, entry) in state.batches {
                if case .waitingForRows(let waiters) = entry, state.isWhole(batch, size: size) {
                    state.batches[batch] = .recording(waiters)
                    ready.append(batch)
                }
            }
            return ready
        }
        for batch in ready { record(batch) }
    }

    /// Calls `then` with row `index`'s attempt time once its event is on disk, or with the
    /// problem that kept it off: at once on this thread when it is on disk already, else on the
    /// journal's. Past the middle of a batch, the next batch is started, so that it is ready
    /// before it is needed.
    func whenAnnounced(_ index: Int, then: @escaping @Sendable (Announced) -> Void) {
        let batch = index / batchSize
        if index % batchSize >= batchSize / 2 { start(batch + 1, waiter: nil) }
        start(batch, waiter: then)
    }

    func startFirstBatch() {
        start(0, waiter: nil)
    }

    /// The rows from index `start` on whose attempt events were recorded (or are being).
    func announcedRows(from start: Int) -> [BulkRow] {
        let size = batchSize
        return state.withLock { state in
            var announced: [BulkRow] = []
            for (batch, entry) in state.batches.sorted(by: { $0.key < $1.key }) {
                switch entry {
                case .recorded(.success), .recording: break
                default: continue
                }
                let lower = max(start, batch * size), upper = min((batch + 1) * size, state.rows.count)
                if lower < upper { announced += state.rows[lower..<upper].map(\.0) }
            }
            return announced
        }
    }

    private func start(_ batch: Int, waiter: (@Sendable (Announced) -> Void)?) {
        enum Next { case call(Announced), wait, record }
        let size = batchSize
        let next = state.withLock { state -> Next in
            switch state.batches[batch] {
            case .recorded(let result)?:
                return .call(result)
            case .recording(var waiters)?:
                if let waiter { waiters.append(waiter) }
                state.batches[batch] = .recording(waiters)
                return .wait
            case .waitingForRows(var waiters)?:
                // Recorded by `recordReady` once its rows are all there.
                if let waiter { waiters.append(waiter) }
                state.batches[batch] = .waitingForRows(waiters)
                return .wait
            case nil:
                let waiters = waiter.map { [$0] } ?? []
                guard state.isWhole(batch, size: size) else {
                    state.batches[batch] = .waitingForRows(waiters)
                    return .wait
                }
                state.batches[batch] = .recording(waiters)
                return .record
            }
        }
        switch next {
        case .call(let result): waiter?(result)
        case .wait: break
        case .record: record(batch)
        }
    }

    /// Records a batch's events, off the caller's thread (the task that sends), each with its
    /// request's fingerprint.
    private func record(_ batch: Int) {
        let size = batchSize
        // The batch's rows only: a copy of them all would be copied again by the next append.
        let rows = state.withLock { state in
            Array(state.rows[min(batch * size, state.rows.count)..<min((batch + 1) * size, state.rows.count)])
        }
        DispatchQueue.global().async { [journal] in
            let now = Date()
            let time = Timestamp.string(now)
            guard !rows.isEmpty else { return self.finish(batch, .success(now)) }
            journal.append(rows.map { row, _ in
                .init(event: "attempt", key: row.key, row: row.number, time: time, fingerprint: row.fingerprint)
            }, urgent: true) { problem in
                self.finish(batch, problem.map { .failure($0) } ?? .success(now))
            }
        }
    }

    private func finish(_ batch: Int, _ result: Announced) {
        let waiters = state.withLock { state -> [@Sendable (Announced) -> Void] in
            defer { state.batches[batch] = .recorded(result) }
            if case .recording(let waiters)? = state.batches[batch] { return waiters }
            return []
        }
        for waiter in waiters { waiter(result) }
    }
}

/// What the workers of a run gather (outcomes, rows left in doubt), from any thread.
final class Collected<Element>: @unchecked Sendable {
    private let items = Mutex<[Element]>([])

    func add(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

/// The ticket ids that are some row's outcome: a ticket is claimed by one row only.
/// Outcomes on their way to the Lua side, which takes them in batches.
public final class OutcomeQueue: @unchecked Sendable {
    private struct State {
        var items: [BulkOutcome] = []
        var finished = false
        var waiter: CheckedContinuation<[BulkOutcome]?, Never>?
    }

    private let state = Mutex(State())
    /// When `next` last returned; touched by its one caller only.
    private var lastTaken: ContinuousClock.Instant?

    func push(_ outcome: BulkOutcome) {
        let resume = state.withLock { state -> (CheckedContinuation<[BulkOutcome]?, Never>, [BulkOutcome])? in
            state.items.append(outcome)
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            defer { state.items.removeAll() }
            return (waiter, state.items)
        }
        if let (waiter, batch) = resume { waiter.resume(returning: batch) }
    }

    public func finish() {
        let resume = state.withLock { state -> CheckedContinuation<[BulkOutcome]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        resume?.resume(returning: nil)
    }

    /// Every outcome since the last call, waiting for at least one; nil once the run is over
    /// and all were taken. Calls come at most every 10 ms, so that the Lua side takes outcomes
    /// by the hundred during a fast run, not one wake-up per row.
    public func next() async -> [BulkOutcome]? {
        if let last = lastTaken, !state.withLock({ $0.finished }) {
            try? await Task.sleep(until: last + .milliseconds(10), clock: .continuous)
        }
        defer { lastTaken = .now }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [BulkOutcome]?? in
                if !state.items.isEmpty {
                    defer { state.items.removeAll() }
                    return .some(state.items)
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// What the service did to a run's requests: for the summary, and to show that faults were met.
public final class AttemptStats: Sendable {
    private struct Counts {
        var attempts = 0, throttled = 0, serverErrors = 0, networkErrors = 0, timeouts = 0
        var lowestConcurrency = Int.max
    }

    private let counts = Mutex(Counts())

    func count(_ attempt: LiveChatAttempt, window: Int) {
        counts.withLock { counts in
            counts.attempts += 1
            counts.lowestConcurrency = min(counts.lowestConcurrency, window)
            switch (attempt.status, attempt.failure) {
            case (429?, _): counts.throttled += 1
            case (let status?, _) where status >= 500: counts.serverErrors += 1
            case (nil, .network?): counts.networkErrors += 1
            case (nil, .timeout?): counts.timeouts += 1
            default: break
            }
        }
    }

    /// The counters as a table for Lua.
    public var snapshot: [String: Int] {
        counts.withLock { counts in
            ["attempts": counts.attempts, "throttled": counts.throttled, "serverErrors": counts.serverErrors,
             "networkErrors": counts.networkErrors, "timeouts": counts.timeouts,
             "lowestConcurrency": counts.lowestConcurrency == .max ? 0 : counts.lowestConcurrency]
        }
    }
}

/// Rows that reach a run after it has started, a chunk at a time and in order: a large CSV
/// file's, read on while its first rows are sent.
public final class RowFeed: Sendable {
    private struct State {
        var chunks: [[BulkRow]] = []
        var finished = false
        var waiter: CheckedContinuation<[BulkRow]?, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// The next rows, after those appended before.
    public func append(_ rows: [BulkRow]) {
        let resume = state.withLock { state -> CheckedContinuation<[BulkRow]?, Never>? in
            guard let waiter = state.waiter else {
                state.chunks.append(rows)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        resume?.resume(returning: rows)
    }

    /// No more rows will come.
    public func finish() {
        let resume = state.withLock { state -> CheckedContinuation<[BulkRow]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        resume?.resume(returning: nil)
    }

    /// The next chunk, waiting for it; nil once every chunk was taken and no more will come.
    /// One caller at a time.
    func next() async -> [BulkRow]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [BulkRow]?? in
                if !state.chunks.isEmpty { return .some(state.chunks.removeFirst()) }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

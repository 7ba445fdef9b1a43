import Foundation

/// What is known of one row of a bulk run, and how it changes: the row state machine. A pure
/// value: each event returns the actions to take (what to record in the journal, whether to send
/// or to search), and everything with threads and I/O sits around it. The same machine replays
/// a journal: a row's records, in order, rebuild what a run that died knew of it.
///
/// ```
/// pending ──announce──▶ announced ──sent──▶ sent ──answered──▶ created
///    ▲                      │                 ├──refused──▶ pending (or failed, for good)
///    └──cancelled (notSent)─┘                 └──answer lost / cancelled──▶ inDoubt
/// inDoubt ──found (claimed)──▶ created;   inDoubt ──not found──▶ pending
/// ```
public enum RowState: Equatable, Sendable {
    /// Nothing of it reached the server: it may be sent.
    case pending
    /// Its attempt is recorded (the request may be sent from then on) but not yet written.
    case announced(since: Date)
    /// Its request is being written or was written; no answer yet.
    case sent(since: Date)
    /// The request may have reached the server and its outcome is unknown: a ticket made at or
    /// after `since` (less the clock slack) may be its own.
    case inDoubt(since: Date)
    /// Its ticket.
    case created(ticket: String)
    /// Refused for good (the server made no ticket): a rerun may send it again.
    case failed(reason: String)

    /// What happens to a row.
    public enum Event: Equatable, Sendable {
        /// Its attempt was recorded, at that time.
        case announced(at: Date)
        /// Its request is handed to the connection: from now on it may reach the server.
        case sent
        /// The server answered with the new ticket's id.
        case answered(ticket: String)
        /// The server refused it, or it never reached the server: no ticket was made. `final`
        /// when trying again cannot help (validation, auth).
        case refused(reason: String, final: Bool)
        /// The request may have reached the server, and no answer came (lost, timed out).
        case answerLost
        /// The run stopped (Ctrl-C) with the row where it was.
        case cancelled
        /// A search found a ticket for it, and it was claimed for this row alone.
        case found(ticket: String)
        /// A search found no ticket made at or after its attempt that no other row has.
        case notFound
    }

    /// What the run does about a transition, in order.
    public enum Action: Equatable, Sendable {
        /// Append to the journal; `durable`: before anything else is done.
        case record(Record, durable: Bool)
        /// Send the request.
        case send
        /// Search for a ticket made at or after that time (less the clock slack).
        case search(since: Date)
        /// Tell the row's outcome (it is settled, for this run).
        case report
    }

    /// A journal record of a row.
    public enum Record: Equatable, Sendable {
        case attempt(at: Date)
        case created(ticket: String, found: Bool)
        case failed(reason: String)
        /// Its attempt was recorded but the request never left: it is simply sent next time.
        case notSent
    }

    /// Whether this run is done with the row.
    public var isSettled: Bool {
        switch self {
        case .created, .failed: return true
        default: return false
        }
    }

    /// The state after `event`, and the actions it takes; an event that does not apply to the
    /// state (a late answer to a settled row) changes nothing.
    @discardableResult
    public mutating func handle(_ event: Event) -> [Action] {
        switch (self, event) {
        case (.pending, .announced(let at)), (.failed, .announced(let at)):
            self = .announced(since: at)
            return [.record(.attempt(at: at), durable: true), .send]
        case (.announced(let since), .sent):
            self = .sent(since: since)
            return []
        case (.announced, .cancelled):
            self = .pending
            return [.record(.notSent, durable: false), .report]
        case (.sent, .answered(let ticket)):
            self = .created(ticket: ticket)
            return [.record(.created(ticket: ticket, found: false), durable: false), .report]
        case (.sent, .refused(let reason, let final)):
            if final {
                self = .failed(reason: reason)
                return [.record(.failed(reason: reason), durable: false), .report]
            }
            self = .pending
            return []
        case (.sent(let since), .answerLost):
            self = .inDoubt(since: since)
            return [.search(since: since)]
        case (.sent(let since), .cancelled):
            // It may have reached the server: the journal's attempt says so to the next run.
            self = .inDoubt(since: since)
            return [.report]
        case (.inDoubt, .found(let ticket)):
            self = .created(ticket: ticket)
            return [.record(.created(ticket: ticket, found: true), durable: false), .report]
        case (.inDoubt, .notFound):
            self = .pending
            return []
        case (.inDoubt, .cancelled):
            return [.report]
        default:
            return []
        }
    }

    /// The state a row's journal records leave, replayed in order: an attempt with no outcome
    /// after it is in doubt (the process may have died after sending it, or before).
    public static func replay(_ records: [Record]) -> RowState {
        var state = RowState.pending
        for record in records {
            switch (state, record) {
            case (.created, _):
                continue  // a ticket is final, whatever follows
            case (_, .attempt(let at)):
                state = .inDoubt(since: at)
            case (_, .created(let ticket, _)):
                state = .created(ticket: ticket)
            case (_, .failed(let reason)):
                state = .failed(reason: reason)
            case (_, .notSent):
                state = .pending
            }
        }
        return state
    }
}

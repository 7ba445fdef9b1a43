import Foundation
import Synchronization

/// How a row whose outcome is unknown is matched to a ticket: the one with its content made
/// closest after its attempt, and never one another row has.
public enum Reconciliation {
    /// Seconds of clock difference allowed between this machine and the service: a ticket made
    /// more than this before an attempt is never taken for it. Ticket times are whole seconds, so
    /// one second of it is their rounding.
    public static let clockSlack: TimeInterval = 2

    /// A ticket that may be a row's: its id and when it was made.
    public struct Candidate: Equatable, Sendable {
        public var ticket: String
        public var created: Date

        public init(ticket: String, created: Date) {
            self.ticket = ticket
            self.created = created
        }
    }

    /// The candidates a row in doubt since `since` may take, best first: made at or after the
    /// attempt (less the slack), the closest in time first, ties by id.
    public static func ranked(_ candidates: [Candidate], since: Date) -> [Candidate] {
        candidates
            .filter { $0.created.timeIntervalSince(since) >= -clockSlack }
            .sorted { ($0.created, $0.ticket) < ($1.created, $1.ticket) }
    }
}

/// The tickets that are some row's outcome, each claimed once: by the row that made it, the row
/// whose search found it, or an earlier run's record. Safe from any thread.
public final class TicketClaims: Sendable {
    private let claimed = Mutex<Set<String>>([])

    public init() {}

    /// Claims `ticket` for one row; false when a row has it already.
    public func claim(_ ticket: String) -> Bool {
        claimed.withLock { $0.insert(ticket).inserted }
    }

    /// The first of `candidates` no row has, claimed; nil when every one is taken.
    public func claimFirst(of candidates: [Reconciliation.Candidate]) -> String? {
        claimed.withLock { claimed in
            for candidate in candidates where claimed.insert(candidate.ticket).inserted { return candidate.ticket }
            return nil
        }
    }
}

import BulkCreation
import Foundation
import XCTest

/// The row state machine alone: its transitions, its replay of a journal, and a property test in
/// which random runs of rows (identical ones among them) meet lost answers, refusals and crashes
/// at any point, each crash rebuilding the rows from the journal written so far.
final class RowStateTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    func testASuccessfulCreateRecordsItsAttemptBeforeSendingThenItsTicket() {
        var state = RowState.pending
        XCTAssertEqual(state.handle(.announced(at: t0)), [.record(.attempt(at: t0), durable: true), .send])
        XCTAssertEqual(state, .announced(since: t0))
        XCTAssertEqual(state.handle(.sent), [])
        XCTAssertEqual(state.handle(.answered(ticket: "Q62JR")), [.record(.created(ticket: "Q62JR", found: false), durable: false), .report])
        XCTAssertEqual(state, .created(ticket: "Q62JR"))
        XCTAssertTrue(state.isSettled)
        XCTAssertEqual(state.handle(.answered(ticket: "OTHER")), [], "a settled row ignores late events")
        XCTAssertEqual(state, .created(ticket: "Q62JR"))
    }

    func testALostAnswerPutsTheRowInDoubtAndASearchSettlesIt() {
        var state = RowState.pending
        state.handle(.announced(at: t0))
        state.handle(.sent)
        XCTAssertEqual(state.handle(.answerLost), [.search(since: t0)])
        XCTAssertEqual(state, .inDoubt(since: t0))
        XCTAssertEqual(state.handle(.found(ticket: "F0UND")), [.record(.created(ticket: "F0UND", found: true), durable: false), .report])
        var other = RowState.inDoubt(since: t0)
        other.handle(.notFound)
        XCTAssertEqual(other, .pending, "nothing made since the attempt: it is sent again")
    }

    func testOnlyWhatMayHaveReachedTheServerIsInDoubt() {
        var notSent = RowState.pending
        notSent.handle(.announced(at: t0))
        XCTAssertEqual(notSent.handle(.cancelled), [.record(.notSent, durable: false), .report])
        XCTAssertEqual(notSent, .pending)
        var inFlight = RowState.pending
        inFlight.handle(.announced(at: t0))
        inFlight.handle(.sent)
        inFlight.handle(.cancelled)
        XCTAssertEqual(inFlight, .inDoubt(since: t0))
    }

    func testARefusalIsRetriedUnlessFinal() {
        var state = RowState.sent(since: t0)
        XCTAssertEqual(state.handle(.refused(reason: "503", final: false)), [])
        XCTAssertEqual(state, .pending)
        state = .sent(since: t0)
        XCTAssertEqual(state.handle(.refused(reason: "bad e-mail", final: true)),
                       [.record(.failed(reason: "bad e-mail"), durable: false), .report])
        XCTAssertEqual(state, .failed(reason: "bad e-mail"))
    }

    func testReplayLeavesAnAttemptWithoutOutcomeInDoubtAndATicketFinal() {
        let t1 = t0.addingTimeInterval(5)
        XCTAssertEqual(RowState.replay([]), .pending)
        XCTAssertEqual(RowState.replay([.attempt(at: t0)]), .inDoubt(since: t0))
        XCTAssertEqual(RowState.replay([.attempt(at: t0), .notSent]), .pending)
        XCTAssertEqual(RowState.replay([.attempt(at: t0), .failed(reason: "x"), .attempt(at: t1)]), .inDoubt(since: t1))
        XCTAssertEqual(RowState.replay([.attempt(at: t0), .created(ticket: "T", found: false), .attempt(at: t1)]), .created(ticket: "T"))
    }

    func testReconciliationTakesTheClosestTicketMadeSinceTheAttemptAndNeverOneTakenOrOlder() {
        let claims = TicketClaims()
        let candidates = [
            Reconciliation.Candidate(ticket: "OLD", created: t0.addingTimeInterval(-60)),
            Reconciliation.Candidate(ticket: "LATER", created: t0.addingTimeInterval(30)),
            Reconciliation.Candidate(ticket: "CLOSE", created: t0.addingTimeInterval(1)),
            Reconciliation.Candidate(ticket: "SKEW", created: t0.addingTimeInterval(-1.5)),
        ]
        let ranked = Reconciliation.ranked(candidates, since: t0)
        XCTAssertEqual(ranked.map(\.ticket), ["SKEW", "CLOSE", "LATER"], "made before the attempt, beyond the slack: never")
        XCTAssertEqual(claims.claimFirst(of: ranked), "SKEW")
        XCTAssertEqual(claims.claimFirst(of: ranked), "CLOSE", "a ticket is claimed once")
        XCTAssertEqual(claims.claimFirst(of: ranked), "LATER")
        XCTAssertNil(claims.claimFirst(of: ranked))
    }

    // MARK: - The property

    /// Random runs against a simulated server, crashes anywhere, reruns from the journal: every
    /// row ends linked to exactly one ticket of its content, no ticket to two rows, and the
    /// server holds no ticket that no row has.
    func testRandomRunsWithCrashesAndLostAnswersEndWithExactlyOneTicketPerRow() {
        var random = SplitMix(seed: 20_261_201)
        for scenario in 1...1_500 {
            var simulation = Simulation(rows: Int(random.next() % 10) + 1, contents: Int(random.next() % 3) + 1, random: &random)
            let runs = simulation.runUntilSettled(random: &random)
            let context = "scenario \(scenario): \(simulation.log.suffix(40).joined(separator: "; "))"
            XCTAssertLessThan(runs, Simulation.maximumRuns, context)
            var linked: [String: Int] = [:]
            for (row, state) in simulation.states.enumerated() {
                guard case .created(let ticket) = state else {
                    XCTFail("row \(row) ended \(state); \(context)")
                    continue
                }
                XCTAssertEqual(simulation.server[ticket], simulation.content[row], "row \(row)'s ticket; \(context)")
                XCTAssertNil(linked.updateValue(row, forKey: ticket), "ticket \(ticket) linked to two rows; \(context)")
            }
            XCTAssertTrue(Set(linked.keys).isDisjoint(with: simulation.existing), "a ticket made before the run was taken; \(context)")
            XCTAssertEqual(simulation.server.count, simulation.content.count + simulation.existing.count,
                           "one ticket per row, no orphan; \(context)")
            if testRun?.failureCount ?? 0 > 0 { return }
        }
    }
}

/// A seeded generator (SplitMix64): the same scenarios every run, so a failure replays.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
}

/// A bulk run as the engine drives its rows, against a server that makes tickets and loses
/// answers, with a journal whose unsynced appends a crash loses. Each run first settles the rows
/// the journal leaves in doubt, then sends the others, then settles its own rows in doubt; a
/// crash may strike between any two steps, and the next run starts from the journal alone.
struct Simulation {
    static let maximumRuns = 60

    /// Each row's content (identical rows share one).
    let content: [Int]
    /// The server's tickets: id → content, and when each was made.
    var server: [String: Int] = [:]
    var made: [String: Date] = [:]
    /// The journal: records on disk, and appends not yet synced.
    var durable: [(row: Int, record: RowState.Record)] = []
    var unsynced: [(row: Int, record: RowState.Record)] = []
    var states: [RowState]
    var clock = Date(timeIntervalSince1970: 1_700_000_000)
    var log: [String] = []
    private var nextTicket = 0

    /// Tickets of the same contents made before the run (by an earlier file): never a row's.
    var existing: Set<String> = []

    init(rows: Int, contents: Int, random: inout SplitMix) {
        var content: [Int] = []
        for _ in 0..<rows { content.append(Int(random.next() % UInt64(contents))) }
        self.content = content
        states = Array(repeating: .pending, count: rows)
        for index in 0..<Int(random.next() % 3) {
            let ticket = "OLD\(index)"
            server[ticket] = Int(random.next() % UInt64(contents))
            made[ticket] = clock.addingTimeInterval(-Double(3 + random.next() % 600))
            existing.insert(ticket)
        }
    }

    struct Crash: Error {}

    /// Runs until every row has its ticket (or the run budget is spent); returns the runs made.
    mutating func runUntilSettled(random: inout SplitMix) -> Int {
        for run in 1...Self.maximumRuns {
            // A new process: what the journal kept, replayed; claims from its tickets.
            unsynced.removeAll()
            states = content.indices.map { row in RowState.replay(durable.filter { $0.row == row }.map(\.record)) }
            let claims = TicketClaims()
            for case .created(let ticket) in states { _ = claims.claim(ticket) }
            log.append("run \(run): \(states)")
            do {
                try settleDoubts(claims, &random)
                var rounds = 0
                while states.contains(where: { !$0.isSettled }) && rounds < 20 {
                    rounds += 1
                    for row in content.indices.shuffledIndices(&random) where !states[row].isSettled {
                        try send(row, claims, &random)
                    }
                    try settleDoubts(claims, &random)
                }
                sync()
                if states.allSatisfy({ if case .created = $0 { true } else { false } }) { return run }
            } catch {
                log.append("crash")
            }
        }
        return Self.maximumRuns
    }

    /// A crash, one time in `odds` hundred.
    mutating func maybeCrash(_ random: inout SplitMix, _ percent: UInt64 = 4) throws {
        if random.chance(percent) { throw Crash() }
        if random.chance(30) { sync() }
    }

    mutating func sync() {
        durable += unsynced
        unsynced.removeAll()
    }

    /// Carries out a transition's actions; the search's and the send's outcomes come back as
    /// further events.
    mutating func apply(_ row: Int, _ actions: [RowState.Action], _ claims: TicketClaims, _ random: inout SplitMix) throws {
        for action in actions {
            switch action {
            case .record(let record, let mustBeDurable):
                unsynced.append((row, record))
                if mustBeDurable { sync() }
            case .report, .send:
                break
            case .search(let since):
                _ = since  // searched when the run settles its doubts, once nothing is in flight
            }
        }
        _ = claims
        try maybeCrash(&random)
    }

    mutating func send(_ row: Int, _ claims: TicketClaims, _ random: inout SplitMix) throws {
        guard case .pending = states[row] else { return }
        clock += 1
        try apply(row, states[row].handle(.announced(at: clock)), claims, &random)
        states[row].handle(.sent)
        if random.chance(10) {
            log.append("row \(row) never reached the server")
            try maybeCrash(&random, 30)
            try apply(row, states[row].handle(.refused(reason: "connection refused", final: false)), claims, &random)
            return
        }
        nextTicket += 1
        let ticket = "T\(nextTicket)"
        server[ticket] = content[row]
        made[ticket] = clock
        log.append("row \(row) made \(ticket)")
        try maybeCrash(&random, 10)
        if random.chance(25) {
            log.append("row \(row)'s answer lost")
            try apply(row, states[row].handle(.answerLost), claims, &random)
        } else {
            XCTAssertTrue(claims.claim(ticket), "a new ticket is no row's yet")
            try apply(row, states[row].handle(.answered(ticket: ticket)), claims, &random)
        }
    }

    /// Every row in doubt searched for: the tickets of its content made since its attempt, the
    /// closest first, claimed once.
    mutating func settleDoubts(_ claims: TicketClaims, _ random: inout SplitMix) throws {
        for row in content.indices.shuffledIndices(&random) {
            guard case .inDoubt(let since) = states[row] else { continue }
            let candidates = server.filter { $0.value == content[row] }
                .map { Reconciliation.Candidate(ticket: $0.key, created: made[$0.key]!) }
            if let ticket = claims.claimFirst(of: Reconciliation.ranked(candidates, since: since)) {
                log.append("row \(row) found \(ticket)")
                try apply(row, states[row].handle(.found(ticket: ticket)), claims, &random)
            } else {
                log.append("row \(row) found nothing")
                try apply(row, states[row].handle(.notFound), claims, &random)
            }
        }
    }
}

extension Range where Bound == Int {
    /// The indices in a random order.
    func shuffledIndices(_ random: inout SplitMix) -> [Int] {
        var all = Array(self)
        if all.count > 1 {
            for i in stride(from: all.count - 1, to: 0, by: -1) {
                let j = Int(random.next() % UInt64(i + 1))
                all.swapAt(i, j)
            }
        }
        return all
    }
}

import Foundation
import GRDB
import Synchronization

/// Group commit: writes that arrive while a transaction is being committed wait, then all go
/// into the next transaction together, so one commit (one fsync) serves many requests. Each
/// write runs in its own savepoint, so one that fails leaves the others in. A write's caller is
/// answered only after the transaction holding it has committed: an answer still means durable.
final class GroupCommit: Sendable {
    /// The most writes committed in one transaction, so that no caller waits behind a huge batch.
    static let maximumBatch = 256

    private struct Job: Sendable {
        /// Runs the write inside the batch's transaction; returns what to do once it has committed.
        var run: @Sendable (Database) -> @Sendable () -> Void
        /// Reports that the batch's transaction failed as a whole.
        var fail: @Sendable (any Error) -> Void
    }

    private struct State {
        var pending: [Job] = []
        var flushing = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` in the next group transaction and returns its result once that has committed.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    do {
                        let value = try GroupCommit.inSavepoint(db) { try work(db) }
                        return { continuation.resume(returning: value) }
                    } catch {
                        return { continuation.resume(throwing: error) }
                    }
                },
                fail: { continuation.resume(throwing: $0) }
            )
            let startFlushing = state.withLock { state in
                state.pending.append(job)
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if startFlushing { Task { await self.flush() } }
        }
    }

    /// Runs `work` in a savepoint of the batch's transaction, rolled back if it throws. The
    /// savepoint statements are prepared once per connection (GRDB's `inSavepoint` prepares
    /// them at each call, a measurable share of a create).
    private static func inSavepoint<T>(_ db: Database, _ work: () throws -> T) throws -> T {
        try db.cachedStatement(sql: "SAVEPOINT job").execute()
        do {
            let value = try work()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
            return value
        } catch {
            try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT job").execute()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
            throw error
        }
    }

    /// Commits batches until no write is waiting.
    private func flush() async {
        while true {
            let batch: [Job] = state.withLock { state in
                let batch = Array(state.pending.prefix(Self.maximumBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let completions = try await writer.write { db in batch.map { $0.run(db) } }
                for complete in completions { complete() }
            } catch {
                for job in batch { job.fail(error) }
            }
        }
    }
}

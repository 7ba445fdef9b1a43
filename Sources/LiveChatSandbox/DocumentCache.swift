import Foundation
import Synchronization

/// Recently read or written tickets' JSON, so that repeated single-ticket reads skip SQLite.
/// Writers store after their commit; a reader fills only if no write happened since it looked,
/// so a slow read can never put back a document older than one a write already stored.
final class DocumentCache: Sendable {
    /// Beyond this many documents the cache starts over (a sandbox rarely gets there).
    static let capacity = 20_000

    private struct State {
        var documents: [String: Data] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The cached document, and the write generation to hand back to `fill` after a miss.
    func lookup(_ id: String) -> (document: Data?, generation: UInt64) {
        state.withLock { ($0.documents[id], $0.generation) }
    }

    /// Caches what a read found, unless a write has happened since `lookup`.
    func fill(_ id: String, _ document: Data, readAt generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            Self.insert(id, document, into: &state)
        }
    }

    /// Caches a committed write's document.
    func store(_ id: String, _ document: Data) {
        state.withLock { state in
            state.generation &+= 1
            Self.insert(id, document, into: &state)
        }
    }

    /// Forgets every document (the store was emptied or replaced).
    func removeAll() {
        state.withLock { state in
            state.generation &+= 1
            state.documents.removeAll()
        }
    }

    private static func insert(_ id: String, _ document: Data, into state: inout State) {
        if state.documents.count >= capacity, state.documents[id] == nil { state.documents.removeAll(keepingCapacity: true) }
        state.documents[id] = document
    }
}

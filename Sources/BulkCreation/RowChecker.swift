import Foundation
import LiveChat
import Synchronization

/// Why a row cannot be sent, as `RowChecker` is told it.
public struct RowProblem: Error, CustomStringConvertible, ExpressibleByStringInterpolation {
    public var description: String
    public init(_ description: String) { self.description = description }
    public init(stringLiteral value: String) { description = value }
    public init(stringInterpolation: DefaultStringInterpolation) { description = String(stringInterpolation: stringInterpolation) }
}

/// Checks a run's rows into requests, all at once or a chunk after another (rows numbered on
/// from the previous chunk). Keys first, in order: `identity` gives a row's key (nil: its
/// number) or why it has none, and a repeated key fails the later row, across chunks too. Then
/// every row's fields, which depend on nothing else: `request` runs for the rows with a key, a
/// large chunk in parallel slices on the cores the run has not started to use yet. `problem`
/// words a row's failure. The closures take indices within the chunk.
public final class RowChecker {
    public init() {}

    private var firstRowOfKey: [String: Int] = [:]
    /// How many rows of each content fingerprint were seen so far.
    private var occurrences: [String: Int] = [:]
    /// Rows checked so far.
    public private(set) var count = 0

    public func check(
        count chunk: Int,
        identity: (Int) -> Result<String?, RowProblem>,
        request: (Int) -> Result<CreateTicketRequest, RowProblem>,
        problem: (Int, String) -> LiveChatError
    ) -> [BulkRow] {
        let offset = count
        count += chunk
        var identities: [(key: String, failure: LiveChatError?)] = []
        identities.reserveCapacity(chunk)
        var byContent: [Int] = []
        for index in 0..<chunk {
            let number = offset + index + 1
            switch identity(index) {
            case .failure(let message):
                identities.append((String(number), problem(number, message.description)))
            case .success(nil):
                // Identified by content, once the request is known (below).
                identities.append((String(number), nil))
                byContent.append(index)
            case .success(let key?):
                let rowKey = key
                if let earlier = firstRowOfKey[rowKey] {
                    identities.append((rowKey, problem(number, "key '\(rowKey)' repeats row \(earlier)'s")))
                } else {
                    firstRowOfKey[rowKey] = number
                    identities.append((rowKey, nil))
                }
            }
        }
        func check(_ index: Int) -> BulkRow {
            let number = offset + index + 1
            let (rowKey, failure) = identities[index]
            if let failure { return BulkRow(number: number, key: rowKey, request: .failure(failure)) }
            return BulkRow(number: number, key: rowKey, request: request(index).mapError { problem(number, $0.description) })
        }
        let slices = chunk >= 2_000 ? max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) : 1
        var rows: [BulkRow]
        if slices == 1 {
            rows = (0..<chunk).map(check)
        } else {
            let checked = SliceResults<BulkRow>(slices)
            DispatchQueue.concurrentPerform(iterations: slices) { slice in
                let range = (slice * chunk / slices)..<((slice + 1) * chunk / slices)
                checked.set(slice, range.map(check))
            }
            rows = checked.joined()
        }
        // A row without a key is its content and its place among rows of the same content, in
        // file order (across chunks): inserting, removing or moving other rows changes nothing
        // for it, and two identical rows are still two tickets.
        for index in byContent {
            guard case .success = rows[index].request else { continue }
            let fingerprint = rows[index].fingerprint
            let occurrence = (occurrences[fingerprint] ?? 0) + 1
            occurrences[fingerprint] = occurrence
            rows[index].key = "\(fingerprint)#\(occurrence)"
        }
        return rows
    }
}

/// The results of parallel slices, each set once from its own thread, joined in slice order.
private final class SliceResults<Element>: @unchecked Sendable {
    private let slices: Mutex<[[Element]]>

    init(_ count: Int) { slices = Mutex(Array(repeating: [], count: count)) }

    func set(_ slice: Int, _ elements: [Element]) { slices.withLock { $0[slice] = elements } }

    func joined() -> [Element] { slices.withLock { Array($0.joined()) } }
}

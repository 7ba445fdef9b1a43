import Foundation

/// The results file of a bulk run: one record per row of the file, in row order, with its status
/// (created, created before, changed, failed, not attempted), its ticket id or its error. JSON lines for `.jsonl`/`.json`, CSV otherwise.
enum BulkResults {
    static let columns = ["row", "key", "status", "ticket_id", "reconciled", "error_kind", "error_status", "error_message"]

    /// Why `path` cannot be written as a results file (its folder missing or not writable, a
    /// folder in its place, a file that may not be replaced); nil when it can.
    static func writeProblem(_ path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            if isFolder.boolValue { return "it is a folder" }
            if access(path, W_OK) != 0 { return String(cString: strerror(errno)).lowercased() }
        }
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            return "the folder \(folder) does not exist"
        }
        // The file is replaced through a temporary file beside it: the folder must be writable.
        if access(folder, W_OK | X_OK) != 0 { return "the folder \(folder) is not writable" }
        return nil
    }

    /// Writes the outcomes, replacing the file atomically (a temporary file renamed over it).
    static func write(_ outcomes: [BulkOutcome], rowCount: Int, to path: String) throws {
        let sorted = outcomes.sorted { $0.row < $1.row }
        let lower = path.lowercased()
        let data = lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") ? try jsonLines(sorted) : try csv(sorted)
        let url = URL(fileURLWithPath: path)
        try data.write(to: url, options: .atomic)
    }

    private static func record(_ outcome: BulkOutcome) -> [String] {
        [
            String(outcome.row), outcome.key, outcome.status.text, outcome.ticketID ?? "",
            outcome.reconciled ? "true" : "", outcome.error?.kind.rawValue ?? "",
            outcome.error?.status.map(String.init) ?? "", outcome.error?.message ?? "",
        ]
    }

    /// RFC 4180 CSV, "\n" line ends: a field is quoted when it holds a comma, a quote or a line
    /// break, its quotes doubled. Written by hand: the CSV library's writer costs more than the
    /// rest of a large run's bookkeeping.
    static func csv(_ outcomes: [BulkOutcome]) throws -> Data {
        var out = [UInt8]()
        out.reserveCapacity(64 * (outcomes.count + 1))
        func line(_ fields: [String]) {
            for (i, field) in fields.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                let bytes = field.utf8
                if bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
                    out.append(UInt8(ascii: "\""))
                    for byte in bytes {
                        if byte == UInt8(ascii: "\"") { out.append(byte) }
                        out.append(byte)
                    }
                    out.append(UInt8(ascii: "\""))
                } else {
                    out.append(contentsOf: bytes)
                }
            }
            out.append(UInt8(ascii: "\n"))
        }
        line(columns)
        for outcome in outcomes { line(record(outcome)) }
        return Data(out)
    }

    private struct Line: Encodable {
        var row: Int
        var key: String
        var status: String
        var ticketId: String?
        var reconciled: Bool?
        var error: ErrorFields?
        struct ErrorFields: Encodable {
            var kind: String
            var status: Int?
            var message: String
        }
    }

    static func jsonLines(_ outcomes: [BulkOutcome]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for outcome in outcomes {
            let line = Line(
                row: outcome.row, key: outcome.key, status: outcome.status.text, ticketId: outcome.ticketID,
                reconciled: outcome.reconciled ? true : nil,
                error: outcome.error.map { .init(kind: $0.kind.rawValue, status: $0.status, message: $0.message) })
            data.append(try encoder.encode(line))
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }
}

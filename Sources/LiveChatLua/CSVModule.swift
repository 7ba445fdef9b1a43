import CSV
import Foundation
import LuaHost

/// The `csv` Lua module, on yaslab/CSV.swift (RFC 4180 quoting, embedded newlines, a UTF-8 BOM,
/// any one-character delimiter):
///
///     local rows, header = csv.read(path, {header = true, delimiter = ",", trim = false})
///     local ok, err = csv.write(path, rows, {header = {"a", "b"}, delimiter = ","})
///
/// With a header, each row is a table keyed by the header's names (empty fields are empty
/// strings); without, an array of strings. Problems with the file return `nil, message`, as
/// `io.open` does; misuse raises.
public enum CSVModule {
    static func install(in state: LuaState) throws {
        try state.registerModule("csv", functions: ["read": read, "write": write])
    }

    struct Options {
        var header = true
        var delimiter: UnicodeScalar = ","
        var trim = false
        var columns: [String]? = nil
    }

    /// Reads the options table at argument `index`; nil and a message when it is wrong.
    static func options(_ args: LuaArguments, _ index: Int32, allowed: Set<String>) -> Result<Options, Problem> {
        var options = Options()
        if args.isNil(index) { return .success(options) }
        guard case .table(let table)? = try? args.value(index) else {
            return .failure("table expected, got \(args.typeName(index))")
        }
        for key in table.fields.keys {
            guard let name = key.stringValue, allowed.contains(name) else {
                return .failure("unknown option \(TicketArguments.describe(key))")
            }
        }
        switch table["header"] {
        case .nil: break
        case .boolean(let flag) where allowed.contains("trim"): options.header = flag
        case .table(let names) where !allowed.contains("trim") && names.fields.isEmpty:
            var columns: [String] = []
            for name in names.sequence {
                guard let text = name.stringValue else { return .failure("field 'header' expected an array of strings") }
                columns.append(text)
            }
            options.columns = columns
        case let other:
            let wanted = allowed.contains("trim") ? "boolean" : "array of strings"
            return .failure("field 'header' expected \(wanted), got \(TicketArguments.typeName(other))")
        }
        switch table["delimiter"] {
        case .nil: break
        case .string(let s) where s.description.unicodeScalars.count == 1 && s.description != "\"" && s.description != "\n":
            options.delimiter = s.description.unicodeScalars.first!
        case let other:
            return .failure("field 'delimiter' expected one character, got \(TicketArguments.describe(value: other))")
        }
        switch table["trim"] {
        case .nil: break
        case .boolean(let flag): options.trim = flag
        case let other: return .failure("field 'trim' expected boolean, got \(TicketArguments.typeName(other))")
        }
        return .success(options)
    }

    /// `csv.read(path [, opts])` → rows, header; or nil, message.
    static let read: LuaHostFunction = { args in
        guard let path = args.string(1) else { return .argumentError(1, "string expected, got \(args.typeName(1))") }
        let options: Options
        switch Self.options(args, 2, allowed: ["header", "delimiter", "trim"]) {
        case .success(let o): options = o
        case .failure(let message): return .argumentError(2, message.description)
        }
        do {
            let (rows, header) = try Self.rows(at: path, options)
            if header == nil {
                // Arrays of strings: pushed straight from the records, no Swift copy of the table.
                let stack = args.stack
                try stack.pushStringRows(rows)
                try stack.push(.nil)
                return .pushed(2)
            }
            let table: [LuaValue] = rows.map { fields in
                guard let header else { return .table(LuaTable(sequence: fields.map { .string($0) })) }
                var row = LuaTable()
                for (i, name) in header.enumerated() where i < fields.count { row[name] = .string(fields[i]) }
                return .table(row)
            }
            let headerValue: LuaValue = header.map { .table(LuaTable(sequence: $0.map { .string($0) })) } ?? .nil
            return .values([.table(LuaTable(sequence: table)), headerValue])
        } catch {
            return .values([.nil, .string("\(error)")])
        }
    }

    struct Problem: Error, CustomStringConvertible, ExpressibleByStringInterpolation {
        var description: String
        init(description: String) { self.description = description }
        init(stringLiteral value: String) { description = value }
    }

    /// The records of a CSV file, and its header when `options.header`.
    static func rows(at path: String, _ options: Options) throws -> ([[String]], [String]?) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Problem(description: "\(path): \(String(cString: strerror(errno == 0 ? ENOENT : errno)))")
        }
        let reader: CSVReader
        do {
            if var text = String(validating: data, as: UTF8.self) {
                // Parsed from a string, the library walks its scalars directly instead of decoding
                // a byte stream through two iterator layers: about twice as fast. A UTF-8 BOM,
                // which the stream reader skips, is dropped here.
                if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
                reader = try CSVReader(string: text, hasHeaderRow: options.header,
                                       trimFields: options.trim, delimiter: options.delimiter)
            } else {
                // Not UTF-8: the stream reader says where decoding fails.
                reader = try CSVReader(stream: InputStream(data: data), hasHeaderRow: options.header,
                                       trimFields: options.trim, delimiter: options.delimiter)
            }
        } catch {
            throw Problem(description: "\(path): \(error)")
        }
        var rows: [[String]] = []
        while let row = reader.next() {
            // A blank line reads as one empty field: skip it, as spreadsheets do.
            if row.count == 1 && row[0].isEmpty { continue }
            rows.append(row)
        }
        if let error = reader.error {
            throw Problem(description: "\(path): record \(rows.count + 1): \(error)")
        }
        return (rows, reader.headerRow)
    }

    /// `csv.write(path, rows [, opts])` → true; or nil, message.
    static let write: LuaHostFunction = { args in
        guard let path = args.string(1) else { return .argumentError(1, "string expected, got \(args.typeName(1))") }
        guard case .table(let rowsTable)? = try? args.value(2), rowsTable.fields.isEmpty else {
            return .argumentError(2, "array of rows expected, got \(args.typeName(2))")
        }
        let options: Options
        switch Self.options(args, 3, allowed: ["header", "delimiter"]) {
        case .success(let o): options = o
        case .failure(let message): return .argumentError(3, message.description)
        }
        // Keyed rows need column names: the given header, else every key seen, sorted.
        var columns = options.columns
        if columns == nil, rowsTable.sequence.contains(where: { !($0.tableValue?.fields.isEmpty ?? true) }) {
            var names = Set<String>()
            for row in rowsTable.sequence { for key in (row.tableValue?.fields ?? [:]).keys { if let k = key.stringValue { names.insert(k) } } }
            columns = names.sorted()
        }
        var records: [[String]] = []
        for (i, row) in rowsTable.sequence.enumerated() {
            guard case .table(let table) = row else {
                return .argumentError(2, "row \(i + 1): table expected, got \(row.typeName)")
            }
            var record: [String] = []
            if let columns, !table.fields.isEmpty || table.sequence.isEmpty {
                for name in columns {
                    guard let text = field(table[name]) else {
                        return .argumentError(2, "row \(i + 1): field '\(name)' cannot be written (\(table[name].typeName))")
                    }
                    record.append(text)
                }
            } else {
                for (j, item) in table.sequence.enumerated() {
                    guard let text = field(item) else {
                        return .argumentError(2, "row \(i + 1): field [\(j + 1)] cannot be written (\(item.typeName))")
                    }
                    record.append(text)
                }
            }
            records.append(record)
        }
        do {
            let stream = OutputStream(toMemory: ())
            stream.open()
            let writer = try CSVWriter(stream: stream, delimiter: String(Character(options.delimiter)))
            if let columns { try writer.write(row: columns) }
            for record in records { try writer.write(row: record) }
            writer.stream.close()
            var data = (stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data) ?? Data()
            if !data.isEmpty { data.append(UInt8(ascii: "\n")) }
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            return .value(.boolean(true))
        } catch {
            return .values([.nil, .string("\(path): \(error.localizedDescription)")])
        }
    }

    /// A value as CSV text: strings, numbers and booleans; nil is an empty field.
    static func field(_ value: LuaValue) -> String? {
        switch value {
        case .nil: return ""
        case .string(let s): return s.description
        case .integer(let i): return String(i)
        case .number(let d): return d.rounded() == d && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)
        case .boolean(let b): return String(b)
        default: return nil
        }
    }
}

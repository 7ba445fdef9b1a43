import CSV
import Foundation
import LuaHost
import Synchronization

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
        try rows(of: contents(at: path), options, path: path)
    }

    /// The records of a file's contents (see `contents`), and its header when `options.header`.
    static func rows(of contents: (Data, String?), _ options: Options, path: String) throws -> ([[String]], [String]?) {
        let (data, text) = contents
        guard let text else { throw Problem(description: "\(path): \(notUTF8(data))") }
        // An empty file has no records (and, if one was asked for, an empty header).
        guard !text.isEmpty else { return ([], options.header ? [] : nil) }
        // A large file is cut at record boundaries into parts parsed at once, one per core.
        let cores = min(ProcessInfo.processInfo.activeProcessorCount, 4)
        let parts = cores >= 2 ? Self.parts(of: text, delimiter: options.delimiter, count: cores) ?? [text] : [text]
        let results = PartResults(parts.count)
        DispatchQueue.concurrentPerform(iterations: parts.count) { index in
            results.set(index, Result {
                let reader = try CSVReader(string: parts[index], hasHeaderRow: options.header && index == 0,
                                           trimFields: options.trim, delimiter: options.delimiter)
                return (reader, Self.records(reader))
            })
        }
        return try joined(results.all, path: path)
    }

    /// A file's bytes, and its text when it is UTF-8. Parsed from a string, the library walks
    /// its scalars directly instead of decoding a byte stream through two iterator layers: about
    /// twice as fast. A UTF-8 BOM, which the stream reader skips, is dropped from the text.
    static func contents(at path: String) throws -> (Data, String?) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Problem(description: "\(path): \(String(cString: strerror(errno)).lowercased())")
        }
        // A pipe (`/dev/stdin`) is read like a file; a folder is not.
        guard info.st_mode & S_IFMT != S_IFDIR else { throw Problem(description: "\(path): is a folder, not a CSV file") }
        let data: Data
        do {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw Problem(description: "\(path): \(String(cString: strerror(errno == 0 ? EACCES : errno)).lowercased())")
            }
            defer { try? handle.close() }
            data = try handle.readToEnd() ?? Data()
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(description: "\(path): cannot be read")
        }
        guard var text = String(validating: data, as: UTF8.self) else { return (data, nil) }
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        return (data, text)
    }

    /// Where a file stops being UTF-8, in words: the line, the column and the byte.
    static func notUTF8(_ data: Data) -> String {
        let bytes = Array(data)
        var line = 1, column = 1, i = 0
        while i < bytes.count {
            let lead = bytes[i]
            let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            guard length > 0, i + length <= bytes.count,
                  String(validating: bytes[i..<(i + length)], as: UTF8.self) != nil
            else {
                return "line \(line), column \(column): byte 0x\(String(lead, radix: 16, uppercase: true)) is not UTF-8 text; save the file as UTF-8"
            }
            if lead == 0x0A { line += 1; column = 1 } else { column += 1 }
            i += length
        }
        return "not UTF-8 text; save the file as UTF-8"
    }

    /// A CSV.swift error in words.
    static func describe(_ error: Error) -> String {
        switch error as? CSVError {
        case .unicodeDecoding?: return "not UTF-8 text; save the file as UTF-8"
        case .cannotReadHeaderRow?: return "the header row cannot be read"
        case .cannotOpenFile?, .cannotReadFile?, .streamErrorHasOccurred?: return "cannot be read"
        default: return "not a CSV file this reader understands"
        }
    }

    /// A large text (256 KiB or more) cut into about `count` parts at record boundaries; nil when
    /// it is smaller, or cannot be cut (see `recordBoundaries`).
    static func parts(of text: String, delimiter: UnicodeScalar, count: Int) -> [String]? {
        guard text.utf8.count >= 256 * 1024, delimiter.isASCII else { return nil }
        let cut: [String]?? = text.utf8.withContiguousStorageIfAvailable { bytes -> [String]? in
            guard let cuts = recordBoundaries(bytes, delimiter: UInt8(delimiter.value), parts: count) else { return nil }
            let edges = [0] + cuts + [bytes.count]
            return (0..<(edges.count - 1)).map { String(decoding: bytes[edges[$0]..<edges[$0 + 1]], as: UTF8.self) }
        }
        return cut ?? nil
    }

    /// The records of one part of a file (without a header), blank lines skipped, up to the
    /// first problem, if any; `before` is the number of records before the part, for the
    /// problem's message.
    static func records(ofPart part: String, before: Int, _ options: Options, path: String) -> ([[String]], Problem?) {
        let reader: CSVReader
        do {
            reader = try CSVReader(string: part, hasHeaderRow: false, trimFields: options.trim, delimiter: options.delimiter)
        } catch {
            return ([], Problem(description: "\(path): \(describe(error))"))
        }
        let records = Self.records(reader)
        guard let error = reader.error else { return (records, nil) }
        return (records, Problem(description: "\(path): record \(before + records.count + 1): \(describe(error))"))
    }

    /// The records of consecutive parts of one file, and the first part's header; a problem names
    /// the record, counted from the file's start.
    private static func joined(_ parts: [Result<(CSVReader, [[String]]), Error>], path: String) throws -> ([[String]], [String]?) {
        var rows: [[String]] = []
        var header: [String]?
        for (index, part) in parts.enumerated() {
            let reader: CSVReader, records: [[String]]
            do {
                (reader, records) = try part.get()
            } catch {
                throw Problem(description: "\(path): \(describe(error))")
            }
            if index == 0 { header = reader.headerRow }
            if let error = reader.error {
                throw Problem(description: "\(path): record \(rows.count + records.count + 1): \(describe(error))")
            }
            rows.append(contentsOf: records)
        }
        return (rows, header)
    }

    /// Every record of a reader, blank lines skipped.
    private static func records(_ reader: CSVReader) -> [[String]] {
        var rows: [[String]] = []
        while let row = reader.next() {
            // A blank line reads as one empty field: skip it, as spreadsheets do.
            if row.count == 1 && row[0].isEmpty { continue }
            rows.append(row)
        }
        return rows
    }

    /// Offsets, about `parts` equal lengths apart, just after line breaks that end a record, found
    /// by following the quoting as RFC 4180 has it. Nil when the file strays from it (a quote
    /// inside an unquoted field, text after a closing quote): such a file is read in one part,
    /// as the library alone would read it.
    static func recordBoundaries(_ bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8, parts: Int) -> [Int]? {
        enum State { case fieldStart, unquoted, quoted, closed }
        let quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        var state = State.fieldStart
        var cuts: [Int] = []
        var next = bytes.count / parts
        /// A record ends with the line break at `i`: a cut there when the next part is due.
        func recordEnds(at i: Int) {
            guard i + 1 >= next, i + 1 < bytes.count, cuts.count < parts - 1 else { return }
            cuts.append(i + 1)
            next = (cuts.count + 1) * bytes.count / parts
        }
        for (i, byte) in bytes.enumerated() {
            // Outside quotes, a delimiter ends the field and a line break the record.
            if state != .quoted, byte == delimiter || byte == newline {
                state = .fieldStart
                if byte == newline { recordEnds(at: i) }
                continue
            }
            switch state {
            case .fieldStart, .unquoted:
                if byte == quote {
                    guard state == .fieldStart else { return nil }
                    state = .quoted
                } else if byte != carriageReturn {
                    state = .unquoted
                }
            case .quoted:
                if byte == quote { state = .closed }
            case .closed:
                // A doubled quote inside the field, or the end of the line; nothing else.
                if byte == quote {
                    state = .quoted
                } else if byte != carriageReturn {
                    return nil
                }
            }
        }
        return cuts.isEmpty ? nil : cuts
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

/// What each part of a file parsed in parallel gave, set once from its own thread.
private final class PartResults: @unchecked Sendable {
    private let results: Mutex<[Result<(CSVReader, [[String]]), Error>?]>

    init(_ count: Int) { results = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ result: Result<(CSVReader, [[String]]), Error>) { results.withLock { $0[index] = result } }

    var all: [Result<(CSVReader, [[String]]), Error>] { results.withLock { $0.map { $0! } } }
}

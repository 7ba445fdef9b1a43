import Foundation

/// Words for what is wrong in a JSON text, with the line and column where it is: for `json.decode`,
/// the config file and `call`'s request, so that a user can go straight to the spot.
public enum JSONText {
    /// Why Foundation refused `data`, as "line L, column C: what" (1-based; the column counts
    /// characters). Foundation says where in several ways (a line and column, or a character
    /// offset); every one is turned into a line and column of `data`.
    public static func describe(_ error: Error, in data: Data) -> String {
        // JSONDecoder says only that the data is not JSON; JSONSerialization also says where.
        var detail: String
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            detail = debugDescription(of: error) ?? "not valid JSON"
        } catch let located {
            detail = debugDescription(of: located) ?? debugDescription(of: error) ?? "not valid JSON"
        }
        if detail.hasSuffix(".") { detail.removeLast() }
        if let first = detail.first { detail = first.lowercased() + detail.dropFirst() }
        if let (line, column) = lineAndColumn(in: detail) {
            return "line \(line), column \(column): \(strippingPosition(detail))"
        }
        if let offset = characterOffset(in: detail) {
            let (line, column) = position(ofOffset: offset, in: data)
            return "line \(line), column \(column): \(strippingPosition(detail))"
        }
        if detail.contains("unexpected end") || data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            let (line, column) = position(ofOffset: data.count, in: data)
            return "line \(line), column \(column): the text ends before the JSON does"
        }
        return detail
    }

    /// "L:C" of the first `"key"` in the text (where a config setting is), or "1:1".
    public static func position(ofKey key: String, in data: Data) -> String {
        let needle = Array("\"\(key)\"".utf8)
        let bytes = Array(data)
        var offset = 0
        if needle.count <= bytes.count {
            for start in 0...(bytes.count - needle.count) where bytes[start..<(start + needle.count)].elementsEqual(needle) {
                offset = start
                break
            }
        }
        let (line, column) = position(ofByte: offset, in: bytes)
        return "\(line):\(column)"
    }

    private static func debugDescription(of error: Error) -> String? {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError { return debugDescription(of: underlying) ?? context.debugDescription }
            return context.debugDescription
        }
        let nsError = error as NSError
        return nsError.userInfo[NSDebugDescriptionErrorKey] as? String
    }

    /// "line N, column M" as Foundation writes it.
    private static func lineAndColumn(in text: String) -> (Int, Int)? {
        guard let match = text.range(of: #"line (\d+), column (\d+)"#, options: .regularExpression) else { return nil }
        let numbers = text[match].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    /// "character N" (a 0-based offset) as Foundation writes it.
    private static func characterOffset(in text: String) -> Int? {
        guard let match = text.range(of: #"character (\d+)"#, options: .regularExpression) else { return nil }
        return Int(text[match].split(separator: " ").last ?? "")
    }

    /// The message without Foundation's own "around line …"/"at character …" part.
    private static func strippingPosition(_ text: String) -> String {
        var out = text.replacingOccurrences(
            of: #"\s*(around|at)?\s*(line \d+, column \d+|character \d+)"#, with: "", options: .regularExpression)
        out = out.trimmingCharacters(in: CharacterSet(charactersIn: " .,"))
        return out.isEmpty ? "not valid JSON" : out
    }

    /// The 1-based line and column of a byte offset; columns count characters of UTF-8 text.
    private static func position(ofByte offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    /// The line and column of a character offset Foundation gave (it counts UTF-8 bytes or
    /// UTF-16 units depending on the platform; for the ASCII that JSON's syntax is made of,
    /// both are bytes).
    private static func position(ofOffset offset: Int, in data: Data) -> (Int, Int) {
        position(ofByte: min(offset, data.count), in: Array(data))
    }
}

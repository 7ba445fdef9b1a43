import Foundation

/// Times as the API sends them: Unix seconds (integer or fractional) in REST responses, ISO-8601
/// strings in the same API's webhooks. Encoded back as whole Unix seconds, the REST form.
enum TicketTime {
    /// The Unix seconds a time may have: year 0 to 9999. A server's value outside is no time
    /// this client knows (and would not survive the conversion to whole seconds).
    static let seconds = -62_167_219_200.0...253_402_300_799.0

    /// The date a JSON value stands for, or nil when it is no time this client knows.
    static func date(from value: JSONValue) -> Date? {
        switch value {
        case .int(let seconds):
            return Self.seconds.contains(Double(seconds)) ? Date(timeIntervalSince1970: TimeInterval(seconds)) : nil
        case .double(let seconds):
            return Self.seconds.contains(seconds) ? Date(timeIntervalSince1970: seconds) : nil
        case .string(let text):
            return date(from: text)
        default:
            return nil
        }
    }

    /// Parses ISO-8601 with or without fractional seconds; a numeric string counts as Unix seconds.
    static func date(from text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed) {
            return Self.seconds.contains(seconds) ? Date(timeIntervalSince1970: seconds) : nil
        }
        let styles = [
            Date.ISO8601FormatStyle(),
            Date.ISO8601FormatStyle(includingFractionalSeconds: true),
        ]
        for candidate in [trimmed, trimmed + "Z"] {  // a time without a zone is taken as UTC
            for style in styles {
                if let date = try? style.parse(candidate) { return date }
            }
        }
        return nil
    }

    /// Whole Unix seconds, as REST responses carry them.
    static func unixSeconds(_ date: Date) -> Int {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        return Int(min(max(seconds, Self.seconds.lowerBound), Self.seconds.upperBound))
    }
}

extension KeyedDecodingContainer {
    /// Decodes a time in any of the API's encodings.
    func decodeTime(forKey key: Key) throws -> Date {
        let raw = try decode(JSONValue.self, forKey: key)
        guard let date = TicketTime.date(from: raw) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription: "expected Unix seconds or an ISO-8601 time")
        }
        return date
    }

    /// Decodes a time in any of the API's encodings; nil when absent or null.
    func decodeTimeIfPresent(forKey key: Key) throws -> Date? {
        guard let raw = try decodeIfPresent(JSONValue.self, forKey: key), raw != .null else {
            return nil
        }
        return try decodeTime(forKey: key)
    }
}

extension KeyedEncodingContainer {
    /// Encodes a time as whole Unix seconds.
    mutating func encodeTime(_ date: Date, forKey key: Key) throws {
        try encode(TicketTime.unixSeconds(date), forKey: key)
    }

    /// Encodes a time as whole Unix seconds, or nothing when nil.
    mutating func encodeTimeIfPresent(_ date: Date?, forKey key: Key) throws {
        if let date { try encodeTime(date, forKey: key) }
    }
}

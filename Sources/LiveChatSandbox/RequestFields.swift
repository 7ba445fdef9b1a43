import Foundation
import LiveChat

/// The fields of a POST or PUT body, whichever encoding it came in: a form (PHP bracket keys) or
/// JSON (nested objects). Handlers ask for fields by path and get the same answer from either.
enum RequestFields: Sendable {
    case form(FormFields)
    case json([String: JSONValue])

    /// Decodes `body` according to `contentType`. A missing or generic type is sniffed: a body that
    /// starts with `{` is JSON, anything else a form (curl's `-d` without `-H` sends a form).
    static func decode(body: Data, contentType: String?) throws -> RequestFields {
        let media = MediaType(contentType ?? "")
        switch media.essence {
        case "application/json", "text/json":
            return try decodeJSON(body)
        case "application/x-www-form-urlencoded":
            return try decodeForm(body, charset: media.charset)
        case "multipart/form-data":
            throw BodyDecodingError(message: "unsupported content type: multipart/form-data; send a form (application/x-www-form-urlencoded) or JSON")
        default:
            if media.essence.hasSuffix("+json") { return try decodeJSON(body) }
            let firstByte = body.first(where: { !(Character(Unicode.Scalar($0)).isWhitespace) })
            if firstByte == UInt8(ascii: "{") { return try decodeJSON(body) }
            return try decodeForm(body, charset: media.charset)
        }
    }

    private static func decodeJSON(_ body: Data) throws -> RequestFields {
        if body.allSatisfy({ Character(Unicode.Scalar($0)).isWhitespace }) { return .json([:]) }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            throw BodyDecodingError(message: "malformed JSON body")
        }
        guard case .object(let object) = value else {
            throw BodyDecodingError(message: "the JSON body must be an object")
        }
        return .json(object)
    }

    private static func decodeForm(_ body: Data, charset: String?) throws -> RequestFields {
        let latin1: Bool
        switch charset {
        case nil, "utf-8", "utf8", "us-ascii": latin1 = false
        case "iso-8859-1", "latin1", "latin-1": latin1 = true
        case let other?: throw BodyDecodingError(message: "unsupported charset: \(other)")
        }
        // Percent-decoding checks the decoded bytes; the raw bytes themselves must be text too.
        let text: String
        if latin1 {
            text = String(body.map { Character(Unicode.Scalar($0)) })
        } else {
            guard let utf8 = String(data: body, encoding: .utf8) else {
                throw BodyDecodingError(message: "form body is not valid UTF-8")
            }
            text = utf8
        }
        do {
            return .form(try FormFields(decoding: Substring(text), latin1: latin1))
        } catch let error as FormDecodingError {
            throw BodyDecodingError(message: error.message)
        }
    }

    /// A scalar field: nil when absent, null or empty; throws `FieldTypeError` when it is not text.
    func string(_ path: [String]) throws -> String? {
        switch self {
        case .form(let form):
            return form.value(path)
        case .json(let object):
            var current: JSONValue = .object(object)
            for key in path {
                guard case .object(let members) = current else {
                    throw FieldTypeError(field: Self.name(path), expected: "a string")
                }
                guard let next = members[key] else { return nil }
                current = next
            }
            if case .null = current { return nil }
            guard let text = current.scalarText else {
                throw FieldTypeError(field: Self.name(path), expected: "a string")
            }
            return text.isEmpty ? nil : text
        }
    }

    /// A top-level array field as texts: nil when absent. JSON may give one scalar for a one-element array.
    func strings(_ name: String, expected: String) throws -> [String]? {
        switch self {
        case .form(let form):
            return form.values(name)
        case .json(let object):
            guard let value = object[name] else { return nil }
            switch value {
            case .null:
                return nil
            case .array(let items):
                return try items.map { item in
                    guard let text = item.scalarText else { throw FieldTypeError(field: name, expected: expected) }
                    return text
                }
            default:
                guard let text = value.scalarText else { throw FieldTypeError(field: name, expected: expected) }
                return [text]
            }
        }
    }

    /// A field path as the API documents it: `requester[mail]`.
    static func name(_ path: [String]) -> String {
        path.first.map { first in first + path.dropFirst().map { "[\($0)]" }.joined() } ?? ""
    }
}

/// A body that cannot be decoded at all: answered with 400 `{"error": "…"}`.
struct BodyDecodingError: Error, Equatable {
    var message: String
}

/// A field of the wrong JSON type, reported among the validation errors.
struct FieldTypeError: Error, Equatable {
    var field: String
    var expected: String
    var message: String { "\(field) must be \(expected)" }
}

/// A parsed `Content-Type`: its lowercased essence (`type/subtype`) and charset parameter.
struct MediaType: Equatable {
    var essence: String
    var charset: String?

    init(_ header: String) {
        let parts = header.split(separator: ";")
        essence = parts.first.map { $0.trimmed(newlines: false).lowercased() } ?? ""
        charset = nil
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmed(newlines: false).lowercased() == "charset" else { continue }
            charset = pair[1].trimmingCharacters(in: .whitespaces)
                .trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        }
    }
}

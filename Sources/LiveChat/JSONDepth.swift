import Foundation

/// How deep a JSON text nests, counted before Foundation parses it. Foundation's parser refuses
/// more than 512 levels, but a text that reaches that depth exactly at its end (513 `[`) makes it
/// trap while it words the error; so every JSON text from outside (an answer, a request, a file,
/// a script's string) is measured here first. Not for users of the library: the project's other
/// targets import it as `@_spi(LiveChatTools) import LiveChat`.
@_spi(LiveChatTools) public enum JSONDepth {
    /// The deepest nesting this project parses; well inside Foundation's limit.
    public static let limit = 500

    /// Whether `bytes` opens more than `limit` arrays or objects at once (outside strings).
    public static func exceedsLimit<Bytes: Sequence>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return true }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return false
    }
}

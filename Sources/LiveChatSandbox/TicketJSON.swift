import Foundation

/// Writes a ticket's JSON by hand, byte for byte what `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` writes (a test compares the two over the seed). Why: on Linux
/// `JSONEncoder` goes through a boxed intermediate tree and costs tens of microseconds per ticket,
/// which was a large share of a create; this appends to one buffer.
extension Ticket {
    /// The JSON the API answers with for this ticket.
    func encoded() -> Data {
        var writer = JSONWriter()
        writer.bytes.reserveCapacity(256 + events.count * 192)
        writer.open("{")
        if let assignee {
            writer.key("assignee"); writer.agent(assignee)
        }
        writer.key("events"); writer.open("[")
        for event in events {
            writer.element()
            writer.open("{")
            writer.key("author"); writer.open("{")
            writer.key("id"); writer.string(event.author.id)
            writer.key("name"); writer.string(event.author.name)
            if let type = event.author.type { writer.key("type"); writer.string(type) }
            writer.close("}")
            if let current = event.current { writer.key("current"); writer.string(current) }
            writer.key("date"); writer.integer(event.date)
            if let isPrivate = event.isPrivate { writer.key("is_private"); writer.raw(isPrivate ? "true" : "false") }
            if let message = event.message { writer.key("message"); writer.string(message) }
            if let previous = event.previous { writer.key("previous"); writer.string(previous) }
            if let source = event.source {
                writer.key("source"); writer.open("{"); writer.key("type"); writer.string(source.type); writer.close("}")
            }
            if let to = event.to { writer.key("to"); writer.agent(to) }
            writer.key("type"); writer.string(event.type)
            writer.close("}")
        }
        writer.close("]")
        writer.key("firstResponse"); writer.open("{"); writer.close("}")
        writer.key("groups"); writer.open("[")
        for group in groups { writer.element(); writer.integer(group) }
        writer.close("]")
        writer.key("id"); writer.string(id)
        writer.key("modified"); writer.integer(modified)
        writer.key("opened"); writer.open("[")
        for span in opened {
            writer.element()
            writer.open("{")
            writer.key("from"); writer.integer(span.from)
            if let to = span.to { writer.key("to"); writer.integer(to) }
            writer.close("}")
        }
        writer.close("]")
        writer.key("requester"); writer.open("{")
        writer.key("mail"); writer.string(requester.mail)
        writer.key("name"); writer.string(requester.name)
        writer.close("}")
        writer.key("source"); writer.open("{")
        writer.key("type"); writer.string(source.type)
        if let url = source.url { writer.key("url"); writer.string(url) }
        writer.close("}")
        writer.key("status"); writer.string(status.rawValue)
        writer.key("subject"); writer.string(subject)
        writer.key("tags"); writer.open("[")
        for tag in tags { writer.element(); writer.string(tag) }
        writer.close("]")
        writer.close("}")
        return Data(writer.bytes)
    }
}

/// A minimal JSON writer: the caller emits keys in order; commas are placed automatically.
private struct JSONWriter {
    var bytes: [UInt8] = []
    /// Whether the container being written already has a member (so the next needs a comma).
    private var hasMember: [Bool] = []

    mutating func open(_ bracket: Unicode.Scalar) {
        bytes.append(UInt8(ascii: bracket))
        hasMember.append(false)
    }

    mutating func close(_ bracket: Unicode.Scalar) {
        bytes.append(UInt8(ascii: bracket))
        hasMember.removeLast()
    }

    /// Starts an array element.
    mutating func element() {
        if hasMember[hasMember.count - 1] { bytes.append(UInt8(ascii: ",")) }
        hasMember[hasMember.count - 1] = true
    }

    /// Starts an object member: keys here are plain ASCII and need no escaping.
    mutating func key(_ name: StaticString) {
        element()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func integer(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func agent(_ agent: Agent) {
        open("{")
        key("id"); string(agent.id)
        key("name"); string(agent.name)
        close("}")
    }

    /// A string as JSONEncoder escapes it: quote, backslash and control characters; `/` and
    /// non-ASCII as they are.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

import Foundation
import Hummingbird

/// The sandbox's answers: JSON with `Content-Type: application/json; charset=utf-8`, errors included.
enum APIResponse {
    static let contentType = "application/json; charset=utf-8"

    /// 200 with a JSON body already encoded.
    static func ok(_ document: Data) -> Response {
        json(.ok, ByteBuffer(bytes: document))
    }

    /// 200 with the list envelope `{"pages": P, "total": T, "tickets": [...]}`, built from stored JSON.
    static func page(total: Int, documents: [Data]) -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(64 + documents.reduce(0) { $0 + $1.count + 1 })
        buffer.writeString("{\"pages\":\(TicketFilter.pages(total: total)),\"total\":\(total),\"tickets\":[")
        for (index, document) in documents.enumerated() {
            if index > 0 { buffer.writeString(",") }
            buffer.writeBytes(document)
        }
        buffer.writeString("]}")
        return json(.ok, buffer)
    }

    /// `{"error": "message"}` with the given status.
    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var response = json(status, encode(["error": message]))
        for field in headers { response.headers.append(field) }
        return response
    }

    /// `{"<key>": ["message", ...]}`: `error` for create and tag validation, `errors` for list validation.
    static func errors(_ status: HTTPResponse.Status, key: String, _ messages: [String]) -> Response {
        json(status, encode([key: messages]))
    }

    static func json(_ status: HTTPResponse.Status, _ body: ByteBuffer) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: body))
    }

    private static func encode<T: Encodable>(_ value: T) -> ByteBuffer {
        // Encoding a dictionary of strings cannot fail.
        ByteBuffer(bytes: (try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
}

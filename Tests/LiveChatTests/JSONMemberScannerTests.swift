import Foundation
import XCTest

@testable import LiveChat

/// A create's answer is read for its `id` by a scanner, not by JSONDecoder: it must agree with
/// JSONDecoder whenever it answers, and step aside (nil) whenever anything is unusual.
final class JSONMemberScannerTests: XCTestCase {
    private struct Created: Decodable { var id: String }

    private func scanned(_ text: String) -> String? {
        JSONMemberScanner.string(named: "id", in: Array(text.utf8))
    }

    func testTheDocsTicketSampleGivesItsTopLevelIDNotTheAssigneeOrAuthorIDs() throws {
        let decoded = try JSONDecoder().decode(Created.self, from: Data(DocsSamples.ticket.utf8))
        XCTAssertEqual(scanned(DocsSamples.ticket), decoded.id)
        XCTAssertEqual(decoded.id, "5FUED")
    }

    func testWellFormedAnswersAgreeWithJSONDecoder() throws {
        let documents = [
            #"{"id":"ABC12"}"#,
            #"  {"assignee":{"id":"jane@x.com"},"id" : "Q1W2E","n":-1.5e+3,"z":[0,true,false,null,{}],"s":"a\"b\\c\u00e9"}  "#,
            #"{"events":[{"id":"nested"}],"id":"T0P"}"#,
            "{\"id\":\"ZX9Y8\",\"message\":\"line\\nbreak é ✓\"}\n",
        ]
        for document in documents {
            let decoded = try JSONDecoder().decode(Created.self, from: Data(document.utf8))
            XCTAssertEqual(scanned(document), decoded.id, document)
        }
    }

    func testAnythingUnusualIsLeftToJSONDecoder() {
        let documents = [
            #"{"id":"A\u0042C"}"#,          // an escape in the id
            #"{"id":12345}"#,               // not a string
            #"{"id":null}"#,
            #"{"id":"A","id":"B"}"#,        // repeated
            #"{"ticket":{"id":"X"}}"#,      // only nested
            #"{"id":"ABC""#,                // truncated
            #"{"id":"ABC",}"#,              // trailing comma
            #"{"id":"ABC"} x"#,             // trailing garbage
            #"{"id":"ABC","n":01}"#,        // leading zero
            #"{"id":"ABC","n":1.}"#,
            #"{"id":"ABC","t":tru}"#,
            #"{"id":"ABC","s":"\q"}"#,      // a bad escape
            "{\"id\":\"AB\u{01}C\"}",       // a raw control character
            #"["id","ABC"]"#,
            "",
            "<html>502 Bad Gateway</html>",
        ]
        for document in documents {
            XCTAssertNil(scanned(document), document)
        }
    }

    func testDeepNestingIsRefusedWithoutOverflowingTheStack() {
        let deep = #"{"id":"A","x":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        XCTAssertNil(scanned(deep))
    }
}

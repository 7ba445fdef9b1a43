import XCTest
@testable import LiveChatSandbox

/// The form and query decoding that every PHP-style client depends on.
final class FormDecodingTests: XCTestCase {
    private func form(_ text: String) throws -> FormFields { try FormFields(decoding: Substring(text)) }

    func testRawAndPercentEncodedBracketKeysDecodeAlike() throws {
        for text in ["requester[mail]=a@b.co", "requester%5Bmail%5D=a@b.co", "requester%5bmail%5d=a@b.co", "requester%5Bmail]=a@b.co"] {
            XCTAssertEqual(try form(text).value(["requester", "mail"]), "a@b.co", text)
        }
    }

    func testPlusAndPercent20BothDecodeToSpace() throws {
        XCTAssertEqual(try form("name=Mary+Brown").value(["name"]), "Mary Brown")
        XCTAssertEqual(try form("name=Mary%20Brown").value(["name"]), "Mary Brown")
        XCTAssertEqual(try form("name=a%2Bb").value(["name"]), "a+b")
    }

    func testLeadingWhitespaceInKeyIsIgnored() throws {
        let fields = try form("subject=x&  message=hi&\n  requester[mail]=m@x.io&%20%20tag=t")
        XCTAssertEqual(fields.value(["message"]), "hi")
        XCTAssertEqual(fields.value(["requester", "mail"]), "m@x.io")
        XCTAssertEqual(fields.value(["tag"]), "t")
    }

    func testArraysDecodeInEveryNotation() throws {
        let variants = [
            "group[]=1&group[]=2", "group%5B%5D=1&group%5B%5D=2", "group[0]=1&group[1]=2",
            "group%5B0%5D=1&group%5B1%5D=2", "group=1&group=2",
        ]
        for text in variants { XCTAssertEqual(try form(text).values("group"), ["1", "2"], text) }
        XCTAssertEqual(try form("group=7").values("group"), ["7"])
        XCTAssertNil(try form("other=1").values("group"))
    }

    func testIndexedArrayEntriesAreOrderedByIndex() throws {
        XCTAssertEqual(try form("tag[2]=c&tag[0]=a&tag[1]=b").values("tag"), ["a", "b", "c"])
    }

    func testLaterScalarValueWinsAndEmptyValuesAreAbsent() throws {
        XCTAssertEqual(try form("status=open&status=solved").value(["status"]), "solved")
        XCTAssertNil(try form("status=").value(["status"]))
    }

    func testValueMayContainEqualsSign() throws {
        XCTAssertEqual(try form("query=a=b").value(["query"]), "a=b")
    }

    func testBrokenPercentEscapeIsRejected() {
        XCTAssertThrowsError(try form("message=100%"))
        XCTAssertThrowsError(try form("message=%zz"))
    }

    func testPercentEncodedBytesThatAreNotUTF8AreRejected() {
        XCTAssertThrowsError(try form("message=%E9t%E9"))
    }

    func testLatin1FormDecodesAccents() throws {
        XCTAssertEqual(try FormFields(decoding: "name=Jos%E9", latin1: true).value(["name"]), "José")
    }

    func testUnbalancedBracketKeyIsRejected() {
        XCTAssertThrowsError(try form("requester[mail=x"))
    }

    func testMediaTypeReadsEssenceAndCharsetInAnyCase() {
        let media = MediaType("Application/X-WWW-Form-URLEncoded; Charset=\"UTF-8\"")
        XCTAssertEqual(media.essence, "application/x-www-form-urlencoded")
        XCTAssertEqual(media.charset, "utf-8")
    }
}

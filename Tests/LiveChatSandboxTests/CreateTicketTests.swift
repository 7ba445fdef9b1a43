import XCTest
@testable import LiveChatSandbox

/// POST /tickets: every accepted encoding, the defaults, and every validation error.
final class CreateTicketTests: XCTestCase {
    var sandbox: LiveSandbox!

    override func setUp() async throws { sandbox = try await LiveSandbox.start() }
    override func tearDown() async throws { await sandbox.stop() }

    func testJSONCreateReturnsOpenTicketWithOneRequesterMessage() async throws {
        let before = Int(Date().timeIntervalSince1970)
        let response = try await sandbox.createJSON(#"""
            {"subject": "Broken shoes", "message": "Hello, my shoes broke.",
             "requester": {"mail": "mary.brown@email.com", "name": "Mary Brown"},
             "source": {"type": "mail"}, "group": [0, 2]}
            """#)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
        let ticket = response.object
        let id = try XCTUnwrap(ticket.string("id"))
        XCTAssertTrue(id.range(of: "^[A-Z0-9]{5}$", options: .regularExpression) != nil, id)
        XCTAssertEqual(ticket.string("status"), "open")
        XCTAssertEqual(ticket.string("subject"), "Broken shoes")
        XCTAssertEqual(ticket.dictionary("requester") as? [String: String], ["mail": "mary.brown@email.com", "name": "Mary Brown"])
        XCTAssertEqual(ticket.dictionary("source") as? [String: String], ["type": "mail"])
        XCTAssertEqual(ticket.ints("groups"), [0, 2])
        XCTAssertEqual(ticket.strings("tags"), [])
        XCTAssertEqual(ticket.dictionary("firstResponse")?.count, 0)
        XCTAssertNil(ticket["assignee"], "an unassigned ticket has no assignee field")
        let modified = try XCTUnwrap(ticket["modified"] as? Int)
        XCTAssertGreaterThanOrEqual(modified, before)
        XCTAssertEqual((ticket["opened"] as? [[String: Int]])?.first?["from"], modified)
        let events = try XCTUnwrap(ticket["events"] as? [[String: Any]])
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events[0].string("type"), "message")
        XCTAssertEqual(events[0].string("message"), "Hello, my shoes broke.")
        XCTAssertEqual(events[0]["is_private"] as? Bool, false)
        XCTAssertEqual(events[0]["date"] as? Int, modified)
        XCTAssertEqual(events[0].dictionary("author") as? [String: String],
                       ["id": "mary.brown@email.com", "name": "Mary Brown", "type": "client"])
        XCTAssertEqual(events[0].dictionary("source") as? [String: String], ["type": "mail"])
    }

    func testCreateDefaultsSubjectSourceAndGroup() async throws {
        let ticket = try await sandbox.createTicket(#"{"message": "Hi", "requester": {"mail": "a@example.com"}}"#)
        XCTAssertEqual(ticket.string("subject"), "(no subject)")
        XCTAssertEqual(ticket.dictionary("source") as? [String: String], ["type": "lc2"])
        XCTAssertEqual(ticket.ints("groups"), [0])
    }

    func testSourceURLIsKeptOnlyForChatWindow() async throws {
        let chat = try await sandbox.createTicket(#"{"message": "Hi", "requester": {"mail": "a@example.com"}, "source": {"type": "chat-window", "url": "https://shop.example.com/p"}}"#)
        XCTAssertEqual(chat.dictionary("source") as? [String: String], ["type": "chat-window", "url": "https://shop.example.com/p"])
        let mail = try await sandbox.createTicket(#"{"message": "Hi", "requester": {"mail": "a@example.com"}, "source": {"type": "mail", "url": "https://shop.example.com/p"}}"#)
        XCTAssertEqual(mail.dictionary("source") as? [String: String], ["type": "mail"])
    }

    func testAssigneeIsNamedFromTheAgentDirectory() async throws {
        let known = try await sandbox.createTicket(#"{"message": "Hi", "requester": {"mail": "a@example.com"}, "assignee": {"id": "jane.doe@mycompany.com"}}"#)
        XCTAssertEqual(known.dictionary("assignee") as? [String: String], ["id": "jane.doe@mycompany.com", "name": "Jane Doe"])
        let unknown = try await sandbox.createTicket(#"{"message": "Hi", "requester": {"mail": "a@example.com"}, "assignee": {"id": "sam.lee@example.com"}}"#)
        XCTAssertEqual(unknown.dictionary("assignee") as? [String: String], ["id": "sam.lee@example.com", "name": "Sam Lee"])
    }

    func testFormWithRawBracketKeysCreatesTicket() async throws {
        let response = try await sandbox.createForm(
            "message=Hi+there&requester[mail]=mary@example.com&requester[name]=Mary+Brown&source[type]=chat-window&source[url]=https%3A%2F%2Fx.example%2Fa&assignee[id]=john.doe@mycompany.com")
        XCTAssertEqual(response.status, 200, response.text)
        let ticket = response.object
        XCTAssertEqual(ticket.dictionary("requester") as? [String: String], ["mail": "mary@example.com", "name": "Mary Brown"])
        XCTAssertEqual(ticket.dictionary("source") as? [String: String], ["type": "chat-window", "url": "https://x.example/a"])
        XCTAssertEqual(ticket.dictionary("assignee")?.string("name"), "John Doe")
    }

    func testFormWithPercentEncodedBracketsInEitherHexCaseCreatesTicket() async throws {
        for body in ["message=Hi&requester%5Bmail%5D=m@example.com&requester%5Bname%5D=M",
                     "message=Hi&requester%5bmail%5d=m@example.com&requester%5bname%5d=M"] {
            let response = try await sandbox.createForm(body)
            XCTAssertEqual(response.status, 200, response.text)
            XCTAssertEqual(response.object.dictionary("requester") as? [String: String], ["mail": "m@example.com", "name": "M"])
        }
    }

    func testFormSpacesAsPlusOrPercent20ReadTheSame() async throws {
        let plus = try await sandbox.createForm("message=my+shoes+broke&subject=Big+problem&requester[mail]=m@example.com")
        let percent = try await sandbox.createForm("message=my%20shoes%20broke&subject=Big%20problem&requester[mail]=m@example.com")
        for response in [plus, percent] {
            XCTAssertEqual(response.object.string("subject"), "Big problem")
            XCTAssertEqual((response.object["events"] as? [[String: Any]])?.first?.string("message"), "my shoes broke")
        }
    }

    func testFormWithCharsetSuffixIsAccepted() async throws {
        for contentType in ["application/x-www-form-urlencoded; charset=utf-8", "application/x-www-form-urlencoded;charset=UTF-8",
                            "APPLICATION/X-WWW-FORM-URLENCODED; charset=\"utf-8\""] {
            let response = try await sandbox.createForm("message=Caf%C3%A9&requester[mail]=m@example.com", contentType: contentType)
            XCTAssertEqual(response.status, 200, "\(contentType): \(response.text)")
            XCTAssertEqual((response.object["events"] as? [[String: Any]])?.first?.string("message"), "Café")
        }
        let latin1 = try await sandbox.createForm("message=Caf%E9&requester[mail]=m@example.com",
                                                  contentType: "application/x-www-form-urlencoded; charset=ISO-8859-1")
        XCTAssertEqual((latin1.object["events"] as? [[String: Any]])?.first?.string("message"), "Café")
    }

    func testJSONWithCharsetSuffixIsAccepted() async throws {
        let response = try await sandbox.send("POST", "/tickets", body: #"{"message": "Hi", "requester": {"mail": "m@example.com"}}"#,
                                              contentType: "application/json; charset=utf-8")
        XCTAssertEqual(response.status, 200, response.text)
    }

    func testGroupArrivesInEveryArrayNotation() async throws {
        let variants = [
            "group[]=1&group[]=3", "group%5B%5D=1&group%5B%5D=3", "group[0]=1&group[1]=3", "group[1]=3&group[0]=1",
            "group%5B0%5D=1&group%5B1%5D=3", "group=1&group=3",
        ]
        for variant in variants {
            let response = try await sandbox.createForm("message=Hi&requester[mail]=m@example.com&\(variant)")
            XCTAssertEqual(response.object.ints("groups"), [1, 3], variant)
        }
        let single = try await sandbox.createForm("message=Hi&requester[mail]=m@example.com&group=2")
        XCTAssertEqual(single.object.ints("groups"), [2])
        let json = try await sandbox.createTicket(#"{"message": "Hi", "requester": {"mail": "m@example.com"}, "group": [1, 3]}"#)
        XCTAssertEqual(json.ints("groups"), [1, 3])
        let jsonScalar = try await sandbox.createTicket(#"{"message": "Hi", "requester": {"mail": "m@example.com"}, "group": 4}"#)
        XCTAssertEqual(jsonScalar.ints("groups"), [4])
    }

    func testFormWithoutContentTypeIsReadAsAForm() async throws {
        let response = try await sandbox.send("POST", "/tickets", body: "message=Hi&requester[mail]=m@example.com")
        XCTAssertEqual(response.status, 200, response.text)
    }

    func testMissingMessageAndRequesterAreBothReportedUnderError() async throws {
        let response = try await sandbox.createJSON("{}")
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertEqual(response.object.strings("error"), ["message is required", "requester[mail] is required"])
    }

    func testBlankMessageIsRejected() async throws {
        let response = try await sandbox.createForm("message=+%20+&requester[mail]=m@example.com")
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.object.strings("error"), ["message is required"])
    }

    func testRequesterMailMustBeAnAddress() async throws {
        let response = try await sandbox.createForm("message=Hi&requester[mail]=not-an-address")
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.object.strings("error"), ["requester[mail] must be an e-mail address"])
    }

    func testUnknownSourceTypeIsRejected() async throws {
        let response = try await sandbox.createForm("message=Hi&requester[mail]=m@example.com&source[type]=facebook")
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.object.strings("error"), ["source[type] must be one of chat-window, mail, lc2"])
    }

    func testNonIntegerGroupIsRejected() async throws {
        let form = try await sandbox.createForm("message=Hi&requester[mail]=m@example.com&group[]=sales")
        XCTAssertEqual(form.status, 400)
        XCTAssertEqual(form.object.strings("error"), ["group must be an array of integers from 0 to 2147483647"])
        let json = try await sandbox.createJSON(#"{"message": "Hi", "requester": {"mail": "m@example.com"}, "group": [{"id": 1}]}"#)
        XCTAssertEqual(json.object.strings("error"), ["group must be an array of integers from 0 to 2147483647"])
    }

    func testGroupIdsOutOfRangeAreRejectedNotTrapped() async throws {
        for group in ["-1", "2147483648", "9223372036854775807", "99999999999999999999999", "1.5", "NaN", "1e400"] {
            let form = try await sandbox.createForm("message=Hi&requester[mail]=m@example.com&group[]=\(group)")
            XCTAssertEqual(form.status, 400, group)
            XCTAssertEqual(form.object.strings("error"), ["group must be an array of integers from 0 to 2147483647"], group)
        }
        for group in ["-1", "2147483648", "9223372036854775807", "1e300", "1.5", "-0.5"] {
            let json = try await sandbox.createJSON(#"{"message": "Hi", "requester": {"mail": "m@example.com"}, "group": [\#(group)]}"#)
            XCTAssertEqual(json.status, 400, group)
        }
        let largest = try await sandbox.createForm("message=Hi&requester[mail]=m@example.com&group[]=2147483647")
        XCTAssertEqual(largest.status, 200)
        XCTAssertEqual(largest.object["groups"] as? [Int], [2_147_483_647])
    }

    func testJSONFieldsOfTheWrongTypeAreReportedEach() async throws {
        let response = try await sandbox.createJSON(#"{"message": ["Hi"], "requester": {"mail": true}}"#)
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.object.strings("error"), ["message must be a string", "requester[mail] must be a string"])
    }

    func testMalformedJSONIsAnsweredWithErrorString() async throws {
        let response = try await sandbox.createJSON(#"{"message": "Hi", "#)
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertEqual(response.object.string("error"), "malformed JSON body")
        let array = try await sandbox.createJSON("[1, 2]")
        XCTAssertEqual(array.status, 400)
        XCTAssertEqual(array.object.string("error"), "the JSON body must be an object")
    }

    func testMalformedFormEncodingIsAnsweredWith400() async throws {
        let response = try await sandbox.createForm("message=100%&requester[mail]=m@example.com")
        XCTAssertEqual(response.status, 400)
        XCTAssertNotNil(response.object.string("error"))
        let notUTF8 = try await sandbox.createForm("message=%FF%FE&requester[mail]=m@example.com")
        XCTAssertEqual(notUTF8.status, 400)
        let multipart = try await sandbox.createForm("x", contentType: "multipart/form-data; boundary=x")
        XCTAssertEqual(multipart.status, 400)
        // The server is still healthy after all of these.
        try await sandbox.createTicket()
    }

    func testTicketCountGrowsByOnePerCreate() async throws {
        let before = try await sandbox.server.ticketCount
        try await sandbox.createTicket()
        let after = try await sandbox.server.ticketCount
        XCTAssertEqual(after, before + 1)
    }
}

import XCTest
@testable import LiveChatSandbox

/// GET /tickets/{id} and PUT /tickets/{id}/tags.
final class TicketLookupAndTagsTests: XCTestCase {
    var sandbox: LiveSandbox!

    override func setUp() async throws { sandbox = try await LiveSandbox.start { $0.seedTickets = 3 } }
    override func tearDown() async throws { await sandbox.stop() }

    func testGetReturnsTheBareTicket() async throws {
        let created = try await sandbox.createTicket()
        let id = created.string("id")!
        let fetched = try await sandbox.send("GET", "/tickets/\(id)")
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.object as NSDictionary, created as NSDictionary)
    }

    func testGetServesTheDocumentationSampleTicket() async throws {
        let fetched = try await sandbox.send("GET", "/tickets/5FUED")
        XCTAssertEqual(fetched.object.string("subject"), "My new shoes are broken")
        XCTAssertEqual(fetched.object.dictionary("assignee")?.string("name"), "Jane Doe")
        XCTAssertEqual((fetched.object["events"] as? [Any])?.count, 3)
    }

    func testUnknownTicketIs404WithTicketNotFound() async throws {
        for id in ["ZZZZZ", "nope", "5FUEDX"] {
            let response = try await sandbox.send("GET", "/tickets/\(id)")
            XCTAssertEqual(response.status, 404, id)
            XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
            XCTAssertEqual(response.object.string("error"), "ticket not found")
        }
    }

    func testPercentEncodedIdInPathFindsTheTicket() async throws {
        let response = try await sandbox.send("GET", "/tickets/%35%46UED")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.object.string("id"), "5FUED")
    }

    func testV2PrefixServesTheSameEndpoints() async throws {
        let plain = try await sandbox.send("GET", "/tickets/5FUED")
        let prefixed = try await sandbox.send("GET", "/v2/tickets/5FUED")
        XCTAssertEqual(prefixed.body, plain.body)
        let list = try await sandbox.send("GET", "/v2/tickets?status=open")
        XCTAssertEqual(list.status, 200)
        let created = try await sandbox.send("POST", "/v2/tickets", body: "message=Hi&requester[mail]=m@example.com")
        XCTAssertEqual(created.status, 200)
        let tagged = try await sandbox.send("PUT", "/v2/tickets/5FUED/tags", body: "tag[]=x")
        XCTAssertEqual(tagged.object.strings("tags"), ["x"])
    }

    func testFormTagUpdateReplacesTagsAndBumpsModified() async throws {
        let created = try await sandbox.createTicket()
        let id = created.string("id")!
        let response = try await sandbox.send("PUT", "/tickets/\(id)/tags", body: "tag[]=sales&tag[]=support&tag[]=feedback",
                                              contentType: "application/x-www-form-urlencoded")
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.object.strings("tags"), ["sales", "support", "feedback"])
        XCTAssertGreaterThanOrEqual(response.object["modified"] as! Int, created["modified"] as! Int)
        let old = try await sandbox.send("PUT", "/tickets/5FUED/tags", body: "tag[]=vip")
        XCTAssertGreaterThan(old.object["modified"] as! Int, 1_384_790_802, "modified moves to now")
        let fetched = try await sandbox.send("GET", "/tickets/\(id)")
        XCTAssertEqual(fetched.object.strings("tags"), ["sales", "support", "feedback"])
    }

    func testTagsArriveInEveryNotation() async throws {
        let id = try await sandbox.createTicket().string("id")!
        let variants: [(String, String?)] = [
            ("tag%5B%5D=a&tag%5B%5D=b", nil), ("tag[0]=a&tag[1]=b", nil), ("tag=a&tag=b", nil),
            (#"{"tag": ["a", "b"]}"#, "application/json"),
        ]
        for (body, contentType) in variants {
            _ = try await sandbox.send("PUT", "/tickets/\(id)/tags", body: "tag[]=reset")
            let response = try await sandbox.send("PUT", "/tickets/\(id)/tags", body: body, contentType: contentType)
            XCTAssertEqual(response.object.strings("tags"), ["a", "b"], body)
        }
        let single = try await sandbox.send("PUT", "/tickets/\(id)/tags", body: "tag=solo")
        XCTAssertEqual(single.object.strings("tags"), ["solo"])
    }

    func testEmptyBodyClearsTags() async throws {
        _ = try await sandbox.send("PUT", "/tickets/5FUED/tags", body: "tag[]=a")
        let cleared = try await sandbox.send("PUT", "/tickets/5FUED/tags", body: "")
        XCTAssertEqual(cleared.status, 200)
        XCTAssertEqual(cleared.object.strings("tags"), [])
        let clearedJSON = try await sandbox.send("PUT", "/tickets/5FUED/tags", body: #"{"tag": []}"#, contentType: "application/json")
        XCTAssertEqual(clearedJSON.object.strings("tags"), [])
    }

    func testDuplicateTagsAreKeptOnce() async throws {
        let response = try await sandbox.send("PUT", "/tickets/5FUED/tags", body: "tag[]=a&tag[]=b&tag[]=a")
        XCTAssertEqual(response.object.strings("tags"), ["a", "b"])
    }

    func testTagFilterSeesUpdatedTags() async throws {
        let id = try await sandbox.createTicket().string("id")!
        _ = try await sandbox.send("PUT", "/tickets/\(id)/tags", body: "tag[]=brand-new-tag")
        let listed = try await sandbox.listAll("tag=brand-new-tag")
        XCTAssertEqual(listed.ids, [id])
        _ = try await sandbox.send("PUT", "/tickets/\(id)/tags", body: "")
        let after = try await sandbox.listAll("tag=brand-new-tag")
        XCTAssertEqual(after.total, 0)
    }

    func testPostIsAcceptedForTagsAsTheDocsJSONSampleSendsIt() async throws {
        let response = try await sandbox.send("POST", "/tickets/5FUED/tags", body: #"{"tag":["sales","support"]}"#,
                                              contentType: "application/json")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.object.strings("tags"), ["sales", "support"])
    }

    func testTagsOfUnknownTicketIs404() async throws {
        let response = try await sandbox.send("PUT", "/tickets/ZZZZZ/tags", body: "tag[]=a")
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.object.string("error"), "ticket not found")
    }

    func testNonStringTagsAreRejectedUnderError() async throws {
        let response = try await sandbox.send("PUT", "/tickets/5FUED/tags", body: #"{"tag": [{"name": "a"}]}"#,
                                              contentType: "application/json")
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.object.strings("error"), ["tag must be an array of strings"])
    }
}

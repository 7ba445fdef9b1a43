import Foundation
import XCTest
@testable import LiveChatSandbox

/// The curl samples of the official LiveChat REST API v2 docs' tickets section, verbatim
/// (from livechat/livechat-public-docs, configuration-api/v2.0), slips included: the JSON tags
/// sample has no `-X PUT`, the form create sample puts spaces before keys, the Basic credentials
/// are unencoded, and a stray `\ ` adds a blank URL argument (curl then exits 3 after our answer).
enum DocsCurlSamples {
    /// GET /tickets (docs source line 3850).
    static let list = #"""
curl "https://api.livechatinc.com/tickets?\
date_from=2013-11-15&\
status=open" \
  -H "Authorization: Basic john.doe@mycompany.com:<your_PAT>" \ \
  -H X-API-Version:2
"""#

    /// GET /tickets/<TICKET_ID> (docs source line 3973).
    static let get = #"""
curl "https://api.livechatinc.com/tickets/5FUED" \
  -H "Authorization: Basic john.doe@mycompany.com:<your_PAT>" \ \
  -H X-API-Version:2
"""#

    /// POST /tickets (docs source line 4111).
    static let createJSON = #"""
curl "https://api.livechatinc.com/tickets" \
  -H "Authorization: Basic john.doe@mycompany.com:<your_PAT>" \ \
  -H X-API-Version:2 \
  -H Content-type:application/json \
  -d '{
      "subject":"I have a problem",
      "message":"Hi,I have a problem with my shoes. Could you please advise?",
      "requester":
      {
        "mail":"mary.brown@email.com",
        "name":"Mary Brown"
      }
     }'
"""#

    /// POST /tickets (docs source line 4130).
    static let createForm = #"""
curl "https://api.livechatinc.com/tickets" \
  -H "Authorization: Basic john.doe@mycompany.com:<your_PAT>" \ \
  -H X-API-Version:2  \
  -X POST -d "subject=I+have+a+problem&\
  message=Hi,I+have+a+problem+with+my+shoes.+Could+you+please+advise?&\
  requester[mail]=mary.brown@email.com&\
  requester[name]=Mary+Brown"
"""#

    /// PUT /tickets/<TICKET_ID>/tags (docs source line 4260).
    static let tagsJSON = #"""
curl "https://api.livechatinc.com/tickets/5FUED/tags" \
  -H "Authorization: Basic john.doe@mycompany.com:<your_PAT>" \ \
  -H X-API-Version:2 \
  -H Content-type:application/json \
  -d '{
        "tag":["sales","support","feedback"]
     }'
"""#

    /// PUT /tickets/<TICKET_ID>/tags (docs source line 4273).
    static let tagsForm = #"""
curl "https://api.livechatinc.com/tickets/5FUED/tags" \
  -H "Authorization: Basic john.doe@mycompany.com:<your_PAT>" \ \
  -H X-API-Version:2 \
  -X PUT \
  -d "tag[]=sales&\
tag[]=support&\
tag[]=feedback"
"""#
}

/// Runs the docs' own curl commands against a seeded sandbox: only the host and the `<your_PAT>`
/// placeholder are replaced.
final class DocsCurlSamplesTests: XCTestCase {
    var sandbox: LiveSandbox!

    override func setUp() async throws {
        sandbox = try await LiveSandbox.start {
            $0.login = "john.doe@mycompany.com"
            $0.apiKey = "docs-pat"
            $0.seedTickets = 1
        }
    }

    override func tearDown() async throws { await sandbox.stop() }

    /// Runs a sample through bash and returns curl's standard output parsed as one JSON object.
    private func run(_ sample: String, file: StaticString = #filePath, line: UInt = #line) async throws -> [String: Any] {
        let command = sample
            .replacingOccurrences(of: "https://api.livechatinc.com", with: sandbox.url.absoluteString)
            .replacingOccurrences(of: "<your_PAT>", with: "docs-pat")
        let output = try await LiveSandbox.offThread { () -> Data in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", command + " --silent"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return data
        }
        let object = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        return try XCTUnwrap(object, String(decoding: output, as: UTF8.self), file: file, line: line)
    }

    func testListSampleListsTheOpenSampleTicket() async throws {
        let page = try await run(DocsCurlSamples.list)
        XCTAssertEqual(page["total"] as? Int, 1)
        XCTAssertEqual((page["tickets"] as? [[String: Any]])?.first?["id"] as? String, "5FUED")
    }

    func testGetSampleReturnsTheSampleTicket() async throws {
        let ticket = try await run(DocsCurlSamples.get)
        XCTAssertEqual(ticket["id"] as? String, "5FUED")
        XCTAssertEqual(ticket["subject"] as? String, "My new shoes are broken")
    }

    func testJSONCreateSampleCreatesTheTicket() async throws {
        let ticket = try await run(DocsCurlSamples.createJSON)
        XCTAssertEqual(ticket["subject"] as? String, "I have a problem")
        XCTAssertEqual(ticket["requester"] as? [String: String], ["mail": "mary.brown@email.com", "name": "Mary Brown"])
    }

    func testFormCreateSampleWithSpacesBeforeKeysCreatesTheTicket() async throws {
        let ticket = try await run(DocsCurlSamples.createForm)
        XCTAssertEqual(ticket["subject"] as? String, "I have a problem")
        XCTAssertEqual(ticket["requester"] as? [String: String], ["mail": "mary.brown@email.com", "name": "Mary Brown"])
        let message = ((ticket["events"] as? [[String: Any]])?.first?["message"]) as? String
        XCTAssertEqual(message, "Hi,I have a problem with my shoes. Could you please advise?")
        let count = try await sandbox.server.ticketCount
        XCTAssertEqual(count, 2)
    }

    func testTagSamplesReplaceTheTags() async throws {
        _ = try await sandbox.send("PUT", "/tickets/5FUED/tags", body: "",
                                   authorization: "Basic john.doe@mycompany.com:docs-pat")
        let json = try await run(DocsCurlSamples.tagsJSON)
        XCTAssertEqual(json["tags"] as? [String], ["sales", "support", "feedback"])
        _ = try await sandbox.send("PUT", "/tickets/5FUED/tags", body: "",
                                   authorization: "Basic john.doe@mycompany.com:docs-pat")
        let form = try await run(DocsCurlSamples.tagsForm)
        XCTAssertEqual(form["tags"] as? [String], ["sales", "support", "feedback"])
    }
}

import Foundation
import XCTest

@testable import LiveChat

/// Each endpoint against a real HTTP server on 127.0.0.1: method, path, headers, body, answer.
final class LiveChatClientEndpointTests: ClientTestCase {
    private func assertCommonHeaders(_ request: RecordedRequest, file: StaticString = #filePath, line: UInt = #line) {
        let credentials = Data("\(Self.login):\(Self.apiKey)".utf8).base64EncodedString()
        XCTAssertEqual(request.header("Authorization"), "Basic \(credentials)", file: file, line: line)
        XCTAssertEqual(request.header("X-API-Version"), "2", file: file, line: line)
        XCTAssertEqual(request.header("Accept"), "application/json", file: file, line: line)
    }

    func testCreateTicketPostsJSONWithBasicAuthAndVersionHeader() async throws {
        let server = try await startServer(always: Self.ticketReply)
        let client = makeClient(server)

        let ticket = try await client.createTicket(CreateTicketRequest(
            message: "My shoes are broken", requesterEmail: "mary.brown@email.com", requesterName: "Mary Brown",
            subject: "Shoes", sourceType: "mail", assigneeId: "jane.doe@mycompany.com", groups: [0, 2]))

        XCTAssertEqual(ticket.id, "5FUED")
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(server.requests.count, 1)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.uri, "/tickets")
        assertCommonHeaders(request)
        XCTAssertEqual(request.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertEqual(request.json as? NSDictionary, [
            "message": "My shoes are broken",
            "requester": ["mail": "mary.brown@email.com", "name": "Mary Brown"],
            "subject": "Shoes", "source": ["type": "mail"],
            "assignee": ["id": "jane.doe@mycompany.com"], "group": [0, 2],
        ] as NSDictionary)
    }

    func testCreateTicketSendsOnlyTheGivenFields() async throws {
        let server = try await startServer(always: Self.ticketReply)
        _ = try await makeClient(server).createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "mary@example.com"))
        XCTAssertEqual(server.requests.first?.json as? NSDictionary,
                       ["message": "Hi", "requester": ["mail": "mary@example.com"]] as NSDictionary)
    }

    func testGetTicketPercentEncodesTheIdAsOnePathSegment() async throws {
        let server = try await startServer(always: Self.ticketReply)
        let client = makeClient(server)

        let ticket = try await client.ticket(id: "5FUED")
        XCTAssertEqual(ticket.subject, "My new shoes are broken")
        _ = try await client.ticket(id: "a/b?c d")

        let requests = server.requests
        XCTAssertEqual(requests.map(\.method), ["GET", "GET"])
        XCTAssertEqual(requests.map(\.uri), ["/tickets/5FUED", "/tickets/a%2Fb%3Fc%20d"])
        requests.forEach { assertCommonHeaders($0) }
        XCTAssertEqual(requests[0].body, [])
    }

    func testEmptyTicketIdIsRefusedWithoutARequest() async throws {
        let server = try await startServer(always: Self.ticketReply)
        let error = await expectError { try await self.makeClient(server).ticket(id: "") }
        XCTAssertEqual(error?.kind, .validation)
        XCTAssertEqual(server.requests.count, 0)
    }

    func testListTicketsSendsEveryFilterAsTheSpecSays() async throws {
        let server = try await startServer(always: .json(200, DocsSamples.ticketList))
        let page = try await makeClient(server).listTickets(TicketQuery(
            dateFrom: "2015-02-01", dateTo: "2015-02-25", page: 1, assigned: true, order: "asc",
            status: "open", assignee: "agent@x.com", query: "broken shoes", requesterMail: "mary@x.com",
            group: 0, source: "mail", tag: "vip", tagged: false))

        XCTAssertEqual(page.total, 15)
        XCTAssertEqual(page.tickets.map(\.id), ["5FUED"])
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.path, "/tickets")
        assertCommonHeaders(request)
        let components = URLComponents(string: request.uri)
        let items = (components?.queryItems ?? []).map { "\($0.name)=\($0.value ?? "")" }
        XCTAssertEqual(items, [
            "date_from=2015-02-01", "date_to=2015-02-25", "page=1", "assigned=1", "order=asc",
            "status=open", "assignee=agent@x.com", "query=broken shoes", "requester[mail]=mary@x.com",
            "group=0", "source=mail", "tag=vip", "tagged=0",
        ])
    }

    func testListTicketsWithoutFiltersSendsNoQueryString() async throws {
        let server = try await startServer(always: .json(200, #"{"pages": 0, "total": 0, "tickets": []}"#))
        let page = try await makeClient(server).listTickets()
        XCTAssertEqual(page, TicketPage(tickets: [], total: 0, pages: 0))
        XCTAssertEqual(server.requests.first?.uri, "/tickets")
    }

    func testListDecodesISOTimesAndGroupObjects() async throws {
        let webhookStyle = """
            {"pages": 1, "total": 1, "tickets": [{"id": "Q62JR", "status": "pending", "subject": "s",
              "requester": {"mail": "m@x.com"}, "groups": [{"id": 3, "name": "Sales"}],
              "source": {"type": "lc2"}, "opened": [{"from": "2015-02-01T10:00:00Z", "to": "2015-02-02T10:00:00Z"}],
              "modified": "2015-02-02T10:00:00.500Z", "firstResponse": {"date": "2015-02-01T11:00:00Z"},
              "tags": [], "events": [{"type": "status_changed", "date": "2015-02-02T10:00:00Z", "to": "pending"}]}]}
            """
        let server = try await startServer(always: .json(200, webhookStyle))
        let page = try await makeClient(server).listTickets()
        let ticket = try XCTUnwrap(page.tickets.first)
        XCTAssertEqual(ticket.groups, [3])
        XCTAssertEqual(ticket.opened.first?.to, Date(timeIntervalSince1970: 1422871200))
        XCTAssertEqual(ticket.firstResponse, .object(["date": .string("2015-02-01T11:00:00Z")]))
        XCTAssertEqual(ticket.events.map(\.type), ["status_changed"])
        XCTAssertEqual(ticket.events.first?.date, Date(timeIntervalSince1970: 1422871200))
    }

    func testUpdateTicketTagsPutsTheTagArray() async throws {
        let server = try await startServer(always: Self.ticketReply)
        let ticket = try await makeClient(server).updateTicketTags(id: "5FUED", tags: ["sales", "support"])
        XCTAssertEqual(ticket.tags, ["sales", "support", "feedback"])  // as the server answered
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(request.method, "PUT")
        XCTAssertEqual(request.uri, "/tickets/5FUED/tags")
        assertCommonHeaders(request)
        XCTAssertEqual(request.json as? NSDictionary, ["tag": ["sales", "support"]] as NSDictionary)
    }

    func testEmptyTagListIsSentAsAnEmptyArray() async throws {
        let server = try await startServer(always: Self.ticketReply)
        _ = try await makeClient(server).updateTicketTags(id: "5FUED", tags: [])
        XCTAssertEqual(server.requests.first?.json as? NSDictionary, ["tag": [] as [String]] as NSDictionary)
    }

    func testBaseURLPathPrefixIsKept() async throws {
        let server = try await startServer(always: Self.ticketReply)
        let client = makeClient(url: server.baseURL + "/v2/")
        _ = try await client.ticket(id: "5FUED")
        XCTAssertEqual(server.requests.first?.uri, "/v2/tickets/5FUED")
    }

    func testSequentialCallsReuseOneKeptAliveConnection() async throws {
        let server = try await startServer(always: Self.ticketReply)
        let client = makeClient(server)
        for _ in 0..<3 { _ = try await client.ticket(id: "5FUED") }
        XCTAssertEqual(server.requests.count, 3)
        XCTAssertEqual(Set(server.requests.map(\.connection)).count, 1)
    }

    func testAttemptsAreReportedToTheObserver() async throws {
        let server = try await startServer { _, index in
            index == 0 ? .json(503, #"{"error": "busy"}"#) : Self.ticketReply
        }
        let attempts = Collected<LiveChatAttempt>()
        let client = makeClient(url: server.baseURL, onAttempt: { attempts.append($0) })
        _ = try await client.ticket(id: "5FUED")
        XCTAssertEqual(attempts.all.map(\.number), [1, 2])
        XCTAssertEqual(attempts.all.map(\.status), [503, 200])
        XCTAssertEqual(attempts.all.map(\.failure), [.server, nil])
        XCTAssertEqual(attempts.all.map(\.willRetry), [true, false])
        XCTAssertEqual(attempts.all.map(\.path), ["/tickets/5FUED", "/tickets/5FUED"])
    }
}

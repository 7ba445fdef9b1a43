import AsyncHTTPClient
import NIOCore
import GRDB
import XCTest
@testable import LiveChatSandbox

/// The SQLite store behind the API: durability, concurrency, seeding.
final class StorageTests: XCTestCase {
    private func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID()).sqlite").path
    }

    func testFileDatabaseKeepsCreatesAndTagUpdatesAcrossARestart() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let first = try await LiveSandbox.start { $0.databasePath = path }
        let created = try await first.createTicket()
        let id = created.string("id")!
        let tagged = try await first.send("PUT", "/tickets/\(id)/tags", body: "tag[]=kept")
        await first.stop()
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))

        let second = try await LiveSandbox.start { $0.databasePath = path }
        let fetched = try await second.send("GET", "/tickets/\(id)")
        let count = try await second.server.ticketCount
        await second.stop()
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.object as NSDictionary, tagged.object as NSDictionary)
        XCTAssertEqual(count, 1)
    }

    func testFileDatabaseUsesWAL() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let sandbox = try await LiveSandbox.start { $0.databasePath = path }
        try await sandbox.createTicket()
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + "-wal"), "WAL mode keeps a -wal file beside the database")
        await sandbox.stop()
        // The first bytes of a SQLite file in WAL mode: file format versions 2 (offsets 18 and 19).
        let header = try XCTUnwrap(FileHandle(forReadingAtPath: path)).readData(ofLength: 20)
        XCTAssertEqual(Array(header[18...19]), [2, 2])
    }

    func testSeedingDoesNotRepeatOnAnExistingDatabase() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let first = try await LiveSandbox.start { $0.databasePath = path; $0.seedTickets = 10 }
        await first.stop()
        let second = try await LiveSandbox.start { $0.databasePath = path; $0.seedTickets = 10 }
        let count = try await second.server.ticketCount
        await second.stop()
        XCTAssertEqual(count, 10)
    }

    func testTwoHundredConcurrentCreatesGetDistinctIdsAndAllAreStored() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let sandbox = try await LiveSandbox.start { $0.databasePath = path }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let url = sandbox.url.absoluteString + "/tickets"
        let ids: [String]
        do {
            ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: LiveSandbox.demoAuthorization)
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: #"{"message": "load \#(index)", "requester": {"mail": "load@example.com"}}"#))
                        let response = try await client.execute(request, timeout: .seconds(60))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        XCTAssertEqual(response.status.code, 200)
                        let ticket = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
                        return ticket?["id"] as? String ?? "missing"
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        } catch {
            try await client.shutdown()
            await sandbox.stop()
            throw error
        }
        try await client.shutdown()
        let count = try await sandbox.server.ticketCount
        await sandbox.stop()
        XCTAssertEqual(ids.count, 200)
        XCTAssertEqual(Set(ids).count, 200, "ids are distinct")
        XCTAssertFalse(ids.contains("missing"))
        XCTAssertEqual(count, 200)

        let reopened = try await LiveSandbox.start { $0.databasePath = path }
        let listed = try await reopened.listAll()
        await reopened.stop()
        XCTAssertEqual(Set(listed.ids), Set(ids), "every acknowledged create was committed")
    }

    func testSeedingIsDeterministicForASeed() {
        let anchor = Int(LiveSandbox.anchor.timeIntervalSince1970)
        let first = Seeder(seed: 42, anchor: anchor).tickets(count: 50)
        let again = Seeder(seed: 42, anchor: anchor).tickets(count: 50)
        let other = Seeder(seed: 43, anchor: anchor).tickets(count: 50)
        XCTAssertEqual(first, again)
        XCTAssertNotEqual(first.map(\.id), other.map(\.id))
    }

    func testSeededTicketsAreVaried() {
        let anchor = Int(LiveSandbox.anchor.timeIntervalSince1970)
        let tickets = Array(Seeder(seed: 3, anchor: anchor).tickets(count: 200).dropFirst())
        XCTAssertEqual(Set(tickets.map(\.id)).count, 199)
        XCTAssertEqual(Set(tickets.map(\.status)), Set(TicketStatus.allCases))
        XCTAssertEqual(Set(tickets.map(\.source.type)), Set(TicketSource.listableTypes))
        XCTAssertTrue(tickets.contains { $0.assignee == nil } && tickets.contains { $0.assignee != nil })
        XCTAssertTrue(tickets.contains { $0.tags.isEmpty } && tickets.contains { $0.tags.count >= 2 })
        XCTAssertTrue(tickets.contains { $0.groups != [0] })
        XCTAssertGreaterThan(Set(tickets.map(\.requester.mail)).count, 20)
        XCTAssertTrue(tickets.allSatisfy { !$0.events.isEmpty && $0.events[0].author.type == "client" })
        XCTAssertGreaterThan(tickets.map(\.events.count).reduce(0, +), 3 * tickets.count, "several events each on average")
        XCTAssertTrue(tickets.allSatisfy { ticket in ticket.activityDates.allSatisfy { $0 <= anchor } && ticket.modified == ticket.activityDates.max() })
        let created = tickets.map { $0.opened[0].from }
        XCTAssertGreaterThan(created.max()! - created.min()!, 90 * 86_400, "dates spread over months")
        XCTAssertTrue(tickets.allSatisfy { ($0.source.url != nil) == ($0.source.type == "chat-window") })
    }

    func testSeedingTwoHundredTicketsStartsWellUnderASecond() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let sandbox = try await LiveSandbox.start { $0.seedTickets = 200 }
        let elapsed = clock.now - started
        let count = try await sandbox.server.ticketCount
        await sandbox.stop()
        XCTAssertEqual(count, 200)
        XCTAssertLessThan(elapsed, .milliseconds(900))
    }

    func testStopIsIdempotentAndStartTwiceIsRefused() async throws {
        let sandbox = try await LiveSandbox.start()
        do {
            _ = try await sandbox.server.start()
            XCTFail("a second start must fail")
        } catch {}
        await sandbox.stop()
        await sandbox.stop()
        let unstarted = SandboxServer(configuration: SandboxConfiguration())
        await unstarted.stop()
    }

    func testStoppedServerRefusesConnections() async throws {
        let sandbox = try await LiveSandbox.start()
        let port = sandbox.port
        await sandbox.stop()
        do {
            _ = try await LiveSandbox.offThread { try RawHTTP.connect(port: port) }
            XCTFail("connect after stop must fail")
        } catch {}
    }

    func testCreatesReachTheDatabaseFileInTheBackgroundWhileTheServerRuns() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let sandbox = try await LiveSandbox.start { $0.databasePath = path }
        var ids: [String] = []
        for _ in 0..<20 { ids.append(try await sandbox.createTicket().string("id")!) }
        // A copy of the database file alone (no WAL beside it) holds what was checkpointed.
        let copy = temporaryDatabase()
        defer { removeDatabase(copy) }
        var found: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            removeDatabase(copy)
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            // Until the first checkpoint even the schema is only in the WAL.
            found = (try? await DatabaseQueue(path: copy).read { db in try String.fetchAll(db, sql: "SELECT id FROM ticket") }) ?? []
            if found.count == ids.count { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await sandbox.stop()
        XCTAssertEqual(Set(found), Set(ids), "the database file, without its WAL, holds every ticket")
    }

    func testADatabaseOfTheFirstSchemaIsUpgradedWithItsGroups() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        // The schema as the first versions wrote it, with a ticket in groups 0 and 3 and one in 2.
        let old = try DatabasePool(path: path)
        try TicketStore.migrator.migrate(old, upTo: "covering listing index")
        try await old.write { db in
            for (id, groups) in [("OLD01", [0, 3]), ("OLD02", [2])] {
                var ticket = Seeder.documentationSample
                ticket.id = id
                ticket.groups = groups
                try db.execute(
                    sql: """
                        INSERT INTO ticket (id, status, requesterMailKey, assigneeKey, sourceType, modified,
                            firstActivity, lastActivity, tagCount, searchText, document)
                        VALUES (?, 'open', 'a@example.com', NULL, 'mail', ?, ?, ?, 0, '', ?)
                        """,
                    arguments: [id, ticket.modified, ticket.modified, ticket.modified, ticket.encoded()])
                for group in groups {
                    try db.execute(sql: "INSERT INTO ticketGroup (ticketId, groupId) VALUES (?, ?)", arguments: [id, group])
                }
            }
        }
        try old.close()

        let sandbox = try await LiveSandbox.start { $0.databasePath = path }
        let inGroup3 = try await sandbox.listAll("group=3")
        let inGroup2 = try await sandbox.listAll("group=2")
        let inGroup1 = try await sandbox.listAll("group=1")
        let created = try await sandbox.createJSON(#"{"message": "Hi", "requester": {"mail": "b@example.com"}, "group": [3]}"#)
        let afterCreate = try await sandbox.listAll("group=3")
        await sandbox.stop()
        XCTAssertEqual(inGroup3.ids, ["OLD01"])
        XCTAssertEqual(inGroup2.ids, ["OLD02"])
        XCTAssertEqual(inGroup1.total, 0)
        XCTAssertEqual(created.status, 200)
        XCTAssertEqual(Set(afterCreate.ids), ["OLD01", created.object["id"] as! String])
    }

}

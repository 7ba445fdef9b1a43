import Foundation
import LiveChatSandbox
import LuaHost
import XCTest
@testable import BulkCreation
@testable import LiveChatLua

/// `livechat.createTickets`: every row created once, outcomes reported, argument errors in the
/// standard library's style, the journal skipping and reconciling on reruns.
final class CreateTicketsTests: XCTestCase {
    var harness: BulkHarness!

    override func setUpWithError() throws { harness = try BulkHarness() }
    override func tearDown() { harness?.stop() }

    func testCreatesEveryRowAndCallsOnResultForEach() throws {
        let out = try harness.run("""
            local rows = ...
            local seen, ids = 0, {}
            local summary = livechat.createTickets(rows, { concurrency = 4, key = "id", progress = false,
              onResult = function(row, ticket, err)
                assert(err == nil, tostring(err))
                assert(ticket.requester.mail == row.requesterEmail)
                seen = seen + 1
                ids[ticket.id] = true
              end })
            local distinct = 0
            for _ in pairs(ids) do distinct = distinct + 1 end
            return summary.created, summary.skipped, summary.failed, summary.total, seen, distinct
            """, sampleRows(40))
        XCTAssertEqual(out, [40, 0, 0, 40, 40, 40])
        XCTAssertEqual(try harness.ticketCount, 40)
    }

    func testDryRunReportsEveryBadRowWithItsNumberAndSendsNothing() throws {
        let out = try harness.run("""
            local summary = livechat.createTickets({
              { message = "fine", requesterEmail = "a@example.com" },
              { message = "no requester" },
              { message = "bad mail", requesterEmail = "not-an-address" },
              { message = "typo", requesterEmail = "b@example.com", subjet = "x" },
            }, { dryRun = true })
            local messages = {}
            for i, f in ipairs(summary.failures) do messages[i] = f.index .. "|" .. f.error.message end
            return summary.valid, summary.failed, summary.created, table.concat(messages, "\\n")
            """)
        XCTAssertEqual(out[0], 1)
        XCTAssertEqual(out[1], 3)
        XCTAssertEqual(out[2], 0)
        let text = out[3].stringValue ?? ""
        XCTAssertTrue(text.contains("2|bad argument #1 to 'createTickets' (row 2: field 'requesterEmail' expected string, got nil)"), text)
        XCTAssertTrue(text.contains("3|bad argument #1 to 'createTickets' (row 3: field 'requesterEmail' expected an e-mail address"), text)
        XCTAssertTrue(text.contains("4|bad argument #1 to 'createTickets' (row 4: unknown field 'subjet' (did you mean 'subject'?))"), text)
        XCTAssertEqual(try harness.ticketCount, 0)
    }

    func testALargeDryRunNamesEachBadRowWhereverItIs() throws {
        // Large enough to be checked in parallel slices: each failure keeps its own row number.
        let out = try harness.run("""
            local rows = {}
            for i = 1, 3001 do rows[i] = { message = "m" .. i, requesterEmail = "c" .. i .. "@example.com", id = "k" .. i } end
            rows[7].requesterEmail = "nope"
            rows[1500] = "not a table"
            rows[2001].id = "k12"
            rows[3001].subjet = "x"
            local summary = livechat.createTickets(rows, { dryRun = true, key = "id" })
            local messages = {}
            for i, f in ipairs(summary.failures) do messages[i] = f.index .. "|" .. f.key .. "|" .. f.error.message end
            table.sort(messages)
            return summary.valid, summary.failed, table.concat(messages, "\\n")
            """)
        XCTAssertEqual(out[0], 2997)
        XCTAssertEqual(out[1], 4)
        XCTAssertEqual(out[2].stringValue?.components(separatedBy: "\n"), [
            "1500|1500|bad argument #1 to 'createTickets' (row 1500: table expected, got string)",
            "2001|k12|bad argument #1 to 'createTickets' (row 2001: key 'k12' repeats row 12's)",
            "3001|k3001|bad argument #1 to 'createTickets' (row 3001: unknown field 'subjet' (did you mean 'subject'?))",
            "7|k7|bad argument #1 to 'createTickets' (row 7: field 'requesterEmail' expected an e-mail address, got 'nope')",
        ])
    }

    func testBadArgumentsRaiseAsTheStandardLibraryDoes() throws {
        let cases: [(String, String)] = [
            ("livechat.createTickets('rows')", "bad argument #1 to 'createTickets' (table expected, got string)"),
            ("livechat.createTickets({}, { concurrency = 0 })", "bad argument #2 to 'createTickets' (field 'concurrency' expected an integer from 1 to 256, got 0)"),
            ("livechat.createTickets({}, { concurency = 2 })", "bad argument #2 to 'createTickets' (unknown option 'concurency' (did you mean 'concurrency'?))"),
            ("livechat.createTickets({}, { onResult = 1 })", "bad argument #2 to 'createTickets' (field 'onResult' expected function, got number)"),
        ]
        for (chunk, expected) in cases {
            XCTAssertThrowsError(try harness.run(chunk)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(chunk): \(error)")
            }
        }
    }

    func testInvalidAndRepeatedKeyRowsFailAloneWhileTheOthersAreCreated() throws {
        let out = try harness.run("""
            local summary = livechat.createTickets({
              { id = "a", message = "one", requesterEmail = "a@example.com" },
              { id = "a", message = "two", requesterEmail = "a@example.com" },
              { id = "c", message = "three" },
              { message = "four", requesterEmail = "d@example.com" },
            }, { key = "id", progress = false })
            local f = summary.failures
            return summary.created, summary.failed, f[1].index, f[1].error.message, f[2].index, f[3].index, f[3].error.kind
            """)
        XCTAssertEqual(out[0], 1)
        XCTAssertEqual(out[1], 3)
        XCTAssertEqual(out[2], 2)
        XCTAssertTrue(out[3].stringValue?.contains("key 'a' repeats row 1's") == true, "\(out[3])")
        XCTAssertEqual(out[4], 3)
        XCTAssertEqual(out[5], 4)
        XCTAssertEqual(out[6], "validation")
        XCTAssertEqual(try harness.ticketCount, 1)
    }

    func testRerunWithTheSameJournalSkipsCreatedRows() throws {
        let journal = harness.path("run.journal")
        let chunk = """
            local rows, journal = ...
            local s = livechat.createTickets(rows, { journal = journal, key = "id", progress = false })
            return s.created, s.skipped, s.failed
            """
        XCTAssertEqual(try harness.run(chunk, sampleRows(30), .string(journal)), [30, 0, 0])
        XCTAssertEqual(try harness.run(chunk, sampleRows(30), .string(journal)), [0, 30, 0])
        // Ten more rows: only they are sent.
        XCTAssertEqual(try harness.run(chunk, sampleRows(40), .string(journal)), [10, 30, 0])
        XCTAssertEqual(try harness.ticketCount, 40)
    }

    func testRowsInDoubtAreReconciledBeforeAnyRetry() throws {
        let journal = harness.path("doubt.journal")
        // Row 1 was created but the process died before recording it; row 2's attempt never
        // reached the server. Both are "attempt" lines with no outcome.
        let created = try harness.run("""
            local rows = ...
            local t = assert(livechat.createTicket(rows[1] and { message = rows[1].message,
              requesterEmail = rows[1].requesterEmail, requesterName = rows[1].requesterName, subject = rows[1].subject }))
            return t.id
            """, sampleRows(2))
        let now = Timestamp.string(Date())
        let service = "\(harness.url.absoluteString) as \(SandboxConfiguration.demoLogin)"
        let lines = [
            #"{"event":"run","key":"","keyScheme":"column id","service":"\#(service)","time":"\#(now)"}"#,
            #"{"event":"attempt","key":"row-1","row":1,"time":"\#(now)"}"#,
            #"{"event":"attempt","key":"row-2","row":2,"time":"\#(now)"}"#,
            #"{"event":"created","key":"row-"#,  // torn by the crash
        ]
        try lines.joined(separator: "\n").write(toFile: journal, atomically: true, encoding: .utf8)
        let out = try harness.run("""
            local rows, journal = ...
            local found = {}
            local s = livechat.createTickets(rows, { journal = journal, key = "id", progress = false,
              onResult = function(row, ticket) found[row.id] = ticket.id end })
            return s.created, s.failed, found["row-1"], found["row-2"] ~= nil
            """, sampleRows(2), .string(journal))
        XCTAssertEqual(out, [2, 0, created[0], true])
        XCTAssertEqual(try harness.ticketCount, 2, "row 1 was found, not created again")
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertTrue(text.contains(#""via":"reconciled""#), text)
        XCTAssertFalse(text.contains(#""key":"row-"}"#), "the torn line was cut off")
        for line in text.split(separator: "\n") {
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), String(line))
        }
    }

    func testAJournalOfAnotherRunIsRefusedBeforeAnythingIsSent() throws {
        let journal = harness.path("other.journal")
        try [
            #"{"event":"run","key":"","keyScheme":"content","service":"https://api.livechatinc.com as me@example.com","time":"2026-01-01T00:00:00.000Z"}"#,
            #"{"event":"attempt","key":"x","row":1,"time":"2026-01-01T00:00:00.000Z"}"#,
            #"{"event":"created","key":"x","row":1,"ticket":"AAAAA","time":"2026-01-01T00:00:01.000Z"}"#,
        ].joined(separator: "\n").appending("\n").write(toFile: journal, atomically: true, encoding: .utf8)
        let out = try harness.run("""
            local rows, journal = ...
            local s, err = livechat.createTickets(rows, { journal = journal, key = "id", progress = false })
            return s, err.kind, err.message
            """, sampleRows(3), .string(journal))
        XCTAssertEqual(out[0], .nil)
        XCTAssertEqual(out[1], "configuration")
        let message = out[2].stringValue ?? ""
        XCTAssertTrue(message.contains("belongs to another run: it went to https://api.livechatinc.com as me@example.com, this run goes to \(harness.url.absoluteString)"), message)
        XCTAssertTrue(message.contains("it identified rows by their content (no --key), this run by the column 'id' (--key)"), message)
        XCTAssertTrue(message.contains("Nothing was sent"), message)
        XCTAssertEqual(try harness.ticketCount, 0)
    }

    func testAJournalOfTheEarlierVersionResumesAKeyedRunButNotARunByContent() throws {
        let journal = harness.path("earlier.journal")
        let service = "\(harness.url.absoluteString) as \(SandboxConfiguration.demoLogin)"
        let created = try harness.run("""
            local rows = ...
            return assert(livechat.createTicket{ message = rows[1].message, requesterEmail = rows[1].requesterEmail }).id
            """, sampleRows(2))
        try [
            #"{"event":"run","key":"","service":"\#(service)","time":"2026-01-01T00:00:00.000Z"}"#,
            #"{"event":"attempt","key":"row-1","row":1,"time":"2026-01-01T00:00:00.000Z"}"#,
            #"{"event":"created","key":"row-1","row":1,"ticket":"\#(created[0].stringValue!)","time":"2026-01-01T00:00:01.000Z"}"#,
        ].joined(separator: "\n").appending("\n").write(toFile: journal, atomically: true, encoding: .utf8)
        let byContent = try harness.run("""
            local rows, journal = ...
            for _, row in ipairs(rows) do row.id = nil end
            local s, err = livechat.createTickets(rows, { journal = journal, progress = false })
            return s, err and err.message
            """, sampleRows(2), .string(journal))
        XCTAssertEqual(byContent[0], .nil)
        XCTAssertTrue(byContent[1].stringValue?.contains("it identified rows by row number (an earlier version, without --key)") == true, "\(byContent)")
        let keyed = try harness.run("""
            local rows, journal = ...
            local s = livechat.createTickets(rows, { journal = journal, key = "id", progress = false })
            return s.created, s.skipped
            """, sampleRows(2), .string(journal))
        XCTAssertEqual(keyed, [1, 1], "row-1 was created by the earlier version's run")
        XCTAssertEqual(try harness.ticketCount, 2)
    }

    func testAnOnResultThatRaisesStopsTheRunAndRaisesItsOwnError() throws {
        XCTAssertThrowsError(try harness.run("""
            local rows = ...
            local seen = 0
            livechat.createTickets(rows, { concurrency = 4, progress = false, key = "id",
              onResult = function() seen = seen + 1; if seen == 3 then error("enough") end end })
            """, sampleRows(40))) { error in
            XCTAssertTrue("\(error)".contains("enough"), "\(error)")
            XCTAssertFalse("\(error)".contains("arithmetic"), "\(error)")
        }
    }

    func testAJournalWithoutRowsBelongsToAnyRun() throws {
        let journal = harness.path("fresh.journal")
        try #"{"event":"run","key":"","service":"https://api.livechatinc.com as me@example.com","time":"2026-01-01T00:00:00.000Z"}"#
            .appending("\n").write(toFile: journal, atomically: true, encoding: .utf8)
        let out = try harness.run("""
            local rows, journal = ...
            return livechat.createTickets(rows, { journal = journal, key = "id", progress = false }).created
            """, sampleRows(3), .string(journal))
        XCTAssertEqual(out, [3])
    }

    func testJournalAndResultsNeverHoldTheAPIKey() throws {
        let journal = harness.path("secret.journal"), results = harness.path("secret.results.jsonl")
        _ = try harness.run("""
            local rows, journal, results = ...
            rows[3].requesterEmail = "broken"
            return livechat.createTickets(rows, { journal = journal, results = results, key = "id", progress = false }).created
            """, sampleRows(5), .string(journal), .string(results))
        for file in [journal, results] {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            XCTAssertFalse(text.contains(BulkHarness.apiKey), file)
            XCTAssertFalse(text.contains(Data("\(SandboxConfiguration.demoLogin):\(BulkHarness.apiKey)".utf8).base64EncodedString()), file)
        }
        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[2].contains(#""status":"failed""#), String(lines[2]))
        XCTAssertTrue(lines[0].contains(#""ticketId":""#), String(lines[0]))
    }

    func testAnErrorInOnResultStopsTheRunAndIsRaised() throws {
        XCTAssertThrowsError(try harness.run("""
            local rows = ...
            livechat.createTickets(rows, { concurrency = 2, progress = false,
              onResult = function() error("stop here") end })
            """, sampleRows(50))) { error in
            XCTAssertTrue("\(error)".contains("stop here"), "\(error)")
        }
        XCTAssertLessThan(try harness.ticketCount, 50)
    }

    func testMissingCredentialsReturnNilAndAnError() throws {
        let state = try LuaState()
        try LiveChatModule.install(in: state, settings: ConnectionSettings(apiURL: harness.url.absoluteString))
        try state.load("local s, err = livechat.createTickets({{message = 'm', requesterEmail = 'a@b.c'}}); return s, err.kind", name: "=t")
        try state.scheduler.run(arguments: 0)
        XCTAssertEqual(try state.popResults(above: 0), [.nil, "auth"])
    }
}

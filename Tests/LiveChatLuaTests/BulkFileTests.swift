import Foundation
import XCTest
@testable import LiveChatLua

/// The `bulk` command's reading of a CSV file into checked rows.
final class BulkFileTests: XCTestCase {
    func testGroupIdsReadAsLuaReadsNumbers() {
        XCTAssertEqual(ColumnPlan.integer("7"), 7)
        XCTAssertEqual(ColumnPlan.integer("7.0"), 7)
        XCTAssertEqual(ColumnPlan.integer("0x1F"), 31)
        XCTAssertEqual(ColumnPlan.integer("-0x10"), -16)
        XCTAssertEqual(ColumnPlan.integer("1e3"), 1000)
        XCTAssertEqual(ColumnPlan.integer("-4"), -4)
        XCTAssertNil(ColumnPlan.integer("1.5"))
        XCTAssertNil(ColumnPlan.integer("sales"))
        XCTAssertNil(ColumnPlan.integer("nan"))
        XCTAssertNil(ColumnPlan.integer("1e30"))
    }

    func testColumnsMatchFieldNamesInAnySpellingAndEveryRowIsChecked() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bulkfile-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            Requester-Email,MESSAGE,requester name,Group,Ref
            mary@example.com,Hello,Mary,"2, sales",R1
            john@example.com,Hi,,0x1,R2
            anna@example.com,,Anna,,R3
            """.write(toFile: path, atomically: true, encoding: .utf8)
        var bulk = BulkFile(path: path)
        bulk.key = "Ref"
        let rows = try bulk.checkedRows()
        XCTAssertEqual(rows.map(\.key), ["R1", "R2", "R3"])
        // A group id that is not a number is refused, as createTicket refuses it.
        guard case .failure(let first) = rows[0].request else { return XCTFail("row 1 should fail: \(rows[0].request)") }
        XCTAssertTrue(first.message.contains("group"), first.message)
        guard case .success(let second) = rows[1].request else { return XCTFail("row 2: \(rows[1].request)") }
        XCTAssertEqual(second.requesterEmail, "john@example.com")
        XCTAssertEqual(second.message, "Hi")
        XCTAssertNil(second.requesterName, "an empty cell is no value")
        XCTAssertEqual(second.groups, [1])
        guard case .failure(let third) = rows[2].request else { return XCTFail("row 3 should fail: \(rows[2].request)") }
        XCTAssertEqual(third.message, "field 'message' expected string, got nil")
    }
}

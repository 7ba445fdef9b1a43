import Foundation
import LuaHost
import XCTest
@testable import LiveChatLua

/// The `csv` module: RFC 4180 quoting, embedded newlines, a BOM, other delimiters, writing.
final class CSVModuleTests: XCTestCase {
    var harness: BulkHarness!

    override func setUpWithError() throws { harness = try BulkHarness() }
    override func tearDown() { harness?.stop() }

    func testReadHandlesQuotesEmbeddedNewlinesAndABOM() throws {
        let path = harness.path("in.csv")
        var data = Data([0xEF, 0xBB, 0xBF])
        data.append(Data("name,message\r\n\"Brown, Mary\",\"Line one\nline \"\"two\"\"\"\r\nJohn,plain\r\n".utf8))
        try data.write(to: URL(fileURLWithPath: path))
        let out = try harness.run("""
            local rows, header = csv.read(...)
            return #rows, header[1], rows[1].name, rows[1].message, rows[2].message
            """, .string(path))
        XCTAssertEqual(out, [2, "name", "Brown, Mary", "Line one\nline \"two\"", "plain"])
    }

    func testReadWithAnotherDelimiterAndNoHeaderGivesArrays() throws {
        let path = harness.path("semi.csv")
        try "a;b;c\n1;\"2;3\";4\n".write(toFile: path, atomically: true, encoding: .utf8)
        let out = try harness.run("""
            local rows = csv.read(..., { header = false, delimiter = ";" })
            return #rows, rows[2][2], #rows[2]
            """, .string(path))
        XCTAssertEqual(out, [2, "2;3", 3])
    }

    func testArraysKeepEmptyFieldsUTF8EmbeddedNewlinesAndRaggedRows() throws {
        let path = harness.path("ragged.csv")
        try "a,,\"x\ny\"\nJosé,✓\nonly\n".write(toFile: path, atomically: true, encoding: .utf8)
        let out = try harness.run("""
            local rows, header = csv.read(..., { header = false })
            return #rows, #rows[1], rows[1][1], rows[1][2], rows[1][3], #rows[2], rows[2][1], rows[2][2], #rows[3], rows[3][1], header
            """, .string(path))
        XCTAssertEqual(out, [3, 3, "a", "", "x\ny", 2, "José", "✓", 1, "only", .nil])
    }

    func testALargeFileReadInPartsGivesEveryRecordAsWritten() throws {
        // Over 256 KiB, so it is cut at record boundaries and parsed in parts: quoted commas,
        // line breaks and doubled quotes everywhere, so some fall next to the cuts.
        var text = "id,name,message\r\n"
        var expected: [[String]] = []
        for i in 1...8000 {
            let message = i % 3 == 0 ? "line one\nline \"two\", \(i)" : "plain \(i) é"
            let quoted = "\"" + message.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            text += "\(i),\"Name, \(i)\",\(quoted)\r\n"
            expected.append(["\(i)", "Name, \(i)", message])
            if i % 1000 == 0 { text += "\r\n" }  // a blank line, skipped
        }
        XCTAssertGreaterThan(text.utf8.count, 256 * 1024)
        let path = harness.path("large.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let (rows, header) = try CSVModule.rows(at: path, .init(header: true))
        XCTAssertEqual(header, ["id", "name", "message"])
        XCTAssertEqual(rows.count, expected.count)
        XCTAssertEqual(rows, expected)
    }

    func testRecordBoundariesFollowQuotingAndGiveUpOnStrayQuotes() {
        func cuts(_ text: String, parts: Int) -> [Int]? {
            Array(text.utf8).withUnsafeBufferPointer { CSVModule.recordBoundaries($0, delimiter: UInt8(ascii: ","), parts: parts) }
        }
        // The line break inside the quotes is not a record boundary; the one after is.
        XCTAssertEqual(cuts("a,\"x\ny\"\nb,c\nd,e\n", parts: 2), [8])
        XCTAssertEqual(cuts("a,\"say \"\"hi\"\"\"\r\nb,c\r\nd,e\r\n", parts: 2), [16])
        XCTAssertNil(cuts("a,b\"c\nd,e\nf,g\n", parts: 2))   // a quote inside an unquoted field
        XCTAssertNil(cuts("a,\"b\"c\nd,e\nf,g\n", parts: 2))  // text after a closing quote
        XCTAssertNil(cuts("a,b", parts: 2))                  // nowhere to cut
    }

    func testWriteThenReadRoundTrips() throws {
        let path = harness.path("out.csv")
        let out = try harness.run("""
            local path = ...
            assert(csv.write(path, { { id = 1, text = "comma, quote \\" and\\nnewline" }, { id = 2, text = "plain" } },
              { header = { "id", "text" } }))
            local rows = csv.read(path)
            return rows[1].id, rows[1].text, rows[2].text
            """, .string(path))
        XCTAssertEqual(out, ["1", "comma, quote \" and\nnewline", "plain"])
    }

    func testReadingAMissingFileReturnsNilAndAMessage() throws {
        let out = try harness.run("return csv.read('/nonexistent/x.csv')")
        XCTAssertEqual(out.first, .nil)
        XCTAssertTrue(out.last?.stringValue?.contains("/nonexistent/x.csv") == true, "\(out)")
    }

    func testAFileThatIsNotUTF8ReturnsNilAndAMessage() throws {
        let path = harness.path("latin1.csv")
        var data = Data("name,message\nJos".utf8)
        data.append(contentsOf: [0xE9, 0x0A])  // "José" in Latin-1: not UTF-8
        try data.write(to: URL(fileURLWithPath: path))
        let out = try harness.run("return csv.read(...)", .string(path))
        XCTAssertEqual(out.first, .nil)
        XCTAssertEqual(out.last?.stringValue, "\(path): line 2, column 4: byte 0xE9 is not UTF-8 text; save the file as UTF-8")
    }

    func testAFolderIsNotReadAsCSVAndProblemsAreInWords() throws {
        let folder = try harness.run("return csv.read('/etc')")
        XCTAssertEqual(folder.first, .nil)
        XCTAssertEqual(folder.last?.stringValue, "/etc: is a folder, not a CSV file")
        let device = try harness.run("return #csv.read('/dev/null')")
        XCTAssertEqual(device.first, .integer(0))
        let missing = try harness.run("return csv.read('/nonexistent/x.csv')")
        XCTAssertEqual(missing.last?.stringValue, "/nonexistent/x.csv: no such file or directory")
    }

    func testBadOptionsRaise() throws {
        XCTAssertThrowsError(try harness.run("csv.read('x.csv', { delimiter = ';;' })")) { error in
            XCTAssertTrue("\(error)".contains("bad argument #2 to 'read' (field 'delimiter' expected one character"), "\(error)")
        }
    }
}

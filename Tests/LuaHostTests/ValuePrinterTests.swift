import CLuaShim
@testable import LuaHost
import XCTest

/// Values rendered for people: key order, nesting, limits, cycles, strings, numbers,
/// metamethods and tickets, each rendering leaving the stack as it was.
final class ValuePrinterTests: XCTestCase {
    var state: LuaState!

    override func setUpWithError() throws {
        state = try LuaState()
    }

    /// Runs `chunk`, renders its first result with `printer`, and checks that rendering left the
    /// stack balanced.
    func show(_ chunk: String, _ printer: ValuePrinter = ValuePrinter(width: 200), result: Bool = false,
              file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try state.load(chunk)
        try state.call(arguments: 0, results: 1)
        let top = state.top
        let text = result ? printer.describeResult(state, at: -1) : printer.describe(state, at: -1)
        XCTAssertEqual(state.top, top, "rendering left the stack balanced", file: file, line: line)
        state.pop()
        XCTAssertEqual(state.top, 0, file: file, line: line)
        return text
    }

    func testSequenceComesFirstInOrderThenKeysSorted() throws {
        XCTAssertEqual(
            try show("return {3, 2, 1, b = 1, a = 2, [10] = 'x', [1.5] = true, [false] = 0}"),
            #"{ 3, 2, 1, [1.5] = true, [10] = "x", a = 2, b = 1, [false] = 0 }"#
        )
    }

    func testKeysThatAreNotNamesAreBracketed() throws {
        XCTAssertEqual(try show("return {['two words'] = 1, ['end'] = 2, _ok = 3}"), #"{ _ok = 3, ["end"] = 2, ["two words"] = 1 }"#)
        let text = try show("return {[{}] = 1}")
        XCTAssertTrue(text.hasPrefix("{ [table: 0x") && text.hasSuffix("] = 1 }"), text)
    }

    func testEmptyTable() throws {
        XCTAssertEqual(try show("return {}"), "{}")
    }

    func testNestedTablesTooWideForOneLineAreIndented() throws {
        let text = try show("return { name = 'a', inner = { x = 1, y = { 1, 2 } } }", ValuePrinter(width: 20))
        XCTAssertEqual(text, """
            {
              inner = {
                x = 1,
                y = { 1, 2 },
              },
              name = "a",
            }
            """)
    }

    func testTablesDeeperThanTheLimitAreElidedWithACount() throws {
        let printer = ValuePrinter(maxDepth: 2, width: 200)
        XCTAssertEqual(try show("return { a = { b = { c = 1 } }, n = 1 }", printer), "{ a = { b = { … 1 item } }, n = 1 }")
        XCTAssertEqual(try show("return { a = { b = { 1, 2, 3 } } }", printer), "{ a = { b = { … 3 items } } }")
    }

    func testLongTablesShowTheFirstEntriesAndCountTheRest() throws {
        let printer = ValuePrinter(maxItems: 3, width: 200)
        XCTAssertEqual(try show("return {10, 20, 30, 40, 50}", printer), "{ 10, 20, 30, … 2 more }")
        XCTAssertEqual(try show("return {1, z = 1, y = 2, x = 3}", printer), "{ 1, x = 3, y = 2, … 1 more }")
    }

    func testCyclesAreMarkedWithTheTablesAddress() throws {
        try state.run("t = { name = 'loop' }; t.self = t; t.list = { t }")
        let text = try show("return t")
        try state.load("return t")
        try state.call(arguments: 0, results: 1)
        let address = "0x" + String(UInt(bitPattern: lua_topointer(state.L, -1)), radix: 16)
        state.pop()
        XCTAssertEqual(text, #"{ list = { <cycle: table: \#(address)> }, name = "loop", self = <cycle: table: \#(address)> }"#)
    }

    func testSharedTablesThatAreNotCyclesPrintInFull() throws {
        XCTAssertEqual(try show("local s = {1}; return { a = s, b = s }"), "{ a = { 1 }, b = { 1 } }")
    }

    func testStringsInTablesAreQuotedWithEscapesAndReadBackTheSame() throws {
        let text = try show(#"return { "a\"b\\c\n\0\0011\255é\t" }"#)
        XCTAssertEqual(text, #"{ "a\"b\\c\n\0\0011\255é\t" }"#)
        // The rendering is a Lua constructor that yields the same bytes.
        let same = try state.run(#"return (load("return " .. ...)())[1] == "a\"b\\c\n\0\0011\255é\t""#, arguments: [.string(text)])
        XCTAssertEqual(same, [true])
        XCTAssertEqual(state.top, 0)
    }

    func testTopLevelResultStringsAreShownAsPrintWritesThem() throws {
        XCTAssertEqual(try show("return 'two\\nlines'", result: true), "two\nlines")
        XCTAssertEqual(try show("return 'quoted'"), "\"quoted\"")
        XCTAssertEqual(try show("return 42", result: true), "42")
    }

    func testIntegersAndFloatsStayApart() throws {
        XCTAssertEqual(try show("return {1, 1.0, -0.0, 1e100, 0.1, 7 // 2, 7 / 2, math.huge, -math.huge, math.mininteger}"),
                       "{ 1, 1.0, -0.0, 1e+100, 0.1, 3, 3.5, inf, -inf, -9223372036854775808 }")
        // The same text as Lua's own tostring, for a spread of floats.
        let samples = ["1/3", "2^53", "2^63", "-2.5e-7", "123456789012345.0", "1e15", "0.1 + 0.2"]
        for sample in samples {
            let expected = try state.run("return tostring(\(sample))")
            XCTAssertEqual(try show("return \(sample)"), expected.first?.stringValue, sample)
        }
    }

    func testScalarsAndOpaqueValues() throws {
        XCTAssertEqual(try show("return {true, false}"), "{ true, false }")
        XCTAssertEqual(try show("return nil"), "nil")
        XCTAssertTrue(try show("return print").hasPrefix("function: "))
        XCTAssertTrue(try show("return coroutine.create(print)").hasPrefix("thread: 0x"))
        XCTAssertTrue(try show("return io.stdout").hasPrefix("file (0x"), "userdata keeps its __tostring")
    }

    func testToStringMetamethodIsHonoured() throws {
        try state.run("Money = { __tostring = function(m) return m.amount .. ' EUR' end }")
        XCTAssertEqual(try show("return setmetatable({ amount = 5 }, Money)"), "5 EUR")
        XCTAssertEqual(try show("return { price = setmetatable({ amount = 5 }, Money) }"), "{ price = 5 EUR }")
    }

    func testFailingToStringIsShownNotRaised() throws {
        let text = try show("return { setmetatable({}, { __tostring = function() error('no words') end }) }")
        XCTAssertTrue(text.hasPrefix("{ <error in __tostring: "), text)
        XCTAssertTrue(text.contains("no words"), text)
    }

    func testNameMetafieldLabelsATable() throws {
        XCTAssertEqual(try show("return setmetatable({ x = 1 }, { __name = 'Point' })"), "Point { x = 1 }")
    }

    func testTicketShowsItsKeyFieldsFirstAndItsDetailsBriefly() throws {
        let text = try show("""
            return {
              tags = { "vip" },
              events = { { author = "mary@x.com", message = "It is on fire" } },
              requester = { name = "Mary", mail = "mary@x.com" },
              date = "2015-02-01T10:00:00Z",
              subject = "Printer on fire",
              status = "open",
              id = "Q62JR",
            }
            """, ValuePrinter())
        XCTAssertEqual(text, """
            {
              id = "Q62JR",
              status = "open",
              subject = "Printer on fire",
              requester = { mail = "mary@x.com", name = "Mary" },
              date = "2015-02-01T10:00:00Z",
              events = { { … 2 items } },
              tags = { "vip" },
            }
            """)
    }

    func testATableWithoutAllTicketFieldsIsNotATicket() throws {
        XCTAssertEqual(try show("return { status = 'open', id = 1 }"), #"{ id = 1, status = "open" }"#)
    }

    func testColourPaletteMarksTokens() throws {
        let text = try show("return { 's', 1, true }", ValuePrinter(palette: .ansi))
        XCTAssertEqual(text, "{ \u{1B}[32m\"s\"\u{1B}[0m, \u{1B}[36m1\u{1B}[0m, \u{1B}[35mtrue\u{1B}[0m }")
        XCTAssertFalse(try show("return { 's', 1 }").contains("\u{1B}"))
    }

    func testColourDoesNotCountTowardsTheWidth() throws {
        let plain = try show("return { 'aaaa', 'bbbb' }", ValuePrinter(width: 20))
        let coloured = try show("return { 'aaaa', 'bbbb' }", ValuePrinter(width: 20, palette: .ansi))
        XCTAssertFalse(plain.contains("\n"))
        XCTAssertFalse(coloured.contains("\n"))
    }

    func testRenderingWorksWithAValueBelowTheTop() throws {
        try state.run("x = { 1 }")
        try state.push(.string("marker"))
        _ = try state.global("x")
        try state.load("return x")
        try state.call(arguments: 0, results: 1)
        try state.push(.integer(7))
        XCTAssertEqual(state.top, 3)
        XCTAssertEqual(ValuePrinter().describe(state, at: 2), "{ 1 }")
        XCTAssertEqual(ValuePrinter().describe(state, at: -3), "\"marker\"")
        XCTAssertEqual(state.top, 3)
        state.pop(3)
    }
}

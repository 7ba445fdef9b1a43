import CLuaShim
import LuaHost
import XCTest

/// Values pushed from Swift and read back, and values made in Lua and read into Swift.
final class ValueRoundTripTests: XCTestCase {
    var state: LuaState!

    override func setUpWithError() throws { state = try LuaState() }
    override func tearDown() { state = nil }

    /// Pushes a value, reads it back, and checks the stack is where it started.
    func roundTrip(_ value: LuaValue, file: StaticString = #filePath, line: UInt = #line) throws -> LuaValue {
        let before = state.top
        try state.push(value)
        XCTAssertEqual(state.top, before + 1, "push adds exactly one value", file: file, line: line)
        let back = try state.value(at: -1)
        XCTAssertEqual(state.top, before + 1, "reading leaves the stack alone", file: file, line: line)
        state.pop()
        XCTAssertEqual(state.top, before, file: file, line: line)
        return back
    }

    func testScalarsSurviveRoundTrip() throws {
        for value: LuaValue in [nil, true, false, 0, -1, 42, 3.5, -0.25, "", "hello", .null] {
            XCTAssertEqual(try roundTrip(value), value)
        }
    }

    func testIntegersStayIntegersAndFloatsStayFloats() throws {
        XCTAssertEqual(try roundTrip(.integer(3)), .integer(3))
        XCTAssertEqual(try roundTrip(.number(3.0)), .number(3.0))
        XCTAssertEqual(try state.run("return 3, 3.0, 2^53, 7 // 2, 7 / 2"), [.integer(3), .number(3.0), .number(9007199254740992), .integer(3), .number(3.5)])
        XCTAssertEqual(try state.run("return math.type(...)", arguments: [.integer(3)]), ["integer"])
        XCTAssertEqual(try state.run("return math.type(...)", arguments: [.number(3)]), ["float"])
    }

    func testIntegerExtremesAreExact() throws {
        XCTAssertEqual(try state.run("return math.maxinteger, math.mininteger"), [.integer(Int64.max), .integer(Int64.min)])
        XCTAssertEqual(try roundTrip(.integer(Int64.max)), .integer(Int64.max))
        XCTAssertEqual(try state.run("return ... == math.maxinteger", arguments: [.integer(Int64.max)]), [true])
        XCTAssertEqual(try state.run("return ... + 1 == math.mininteger", arguments: [.integer(Int64.max)]), [true])
    }

    func testStringsWithNulBytesSurviveRoundTrip() throws {
        let bytes: [UInt8] = [0x61, 0x00, 0x62, 0x00, 0x00]
        XCTAssertEqual(try roundTrip(.string(LuaString(bytes: bytes))), .string(LuaString(bytes: bytes)))
        XCTAssertEqual(try state.run("return #(...)", arguments: [.string(LuaString(bytes: bytes))]), [.integer(5)])
        XCTAssertEqual(try state.run("return 'x\\0y'"), [.string(LuaString(bytes: [0x78, 0, 0x79]))])
    }

    func testNonUTF8StringsSurviveRoundTrip() throws {
        let bytes: [UInt8] = [0xff, 0xfe, 0x80, 0x41]
        let back = try roundTrip(.string(LuaString(bytes: bytes)))
        XCTAssertEqual(back, .string(LuaString(bytes: bytes)))
        XCTAssertNil(back.stringValue, "invalid UTF-8 is not passed off as a Swift string")
        XCTAssertEqual(try state.run("return string.byte(..., 1, -1)", arguments: [back]), bytes.map { .integer(Int64($0)) })
    }

    func testSequencesAndMapsAreToldApart() throws {
        let made = try state.run("return {10, 20, 30}, {a = 1, b = 'x'}, {1, 2, n = 2}, {}")
        XCTAssertEqual(made[0], .table(LuaTable(sequence: [10, 20, 30])))
        XCTAssertTrue(made[0].tableValue!.isSequence)
        XCTAssertEqual(made[1], ["a": 1, "b": "x"])
        XCTAssertFalse(made[1].tableValue!.isSequence)
        XCTAssertEqual(made[2].tableValue?.sequence, [1, 2])
        XCTAssertEqual(made[2].tableValue?["n"], 2)
        XCTAssertEqual(made[3], .table(LuaTable()))
    }

    func testSparseArraysKeepTheirHoles() throws {
        let made = try state.run("return {1, 2, nil, 4}")[0].tableValue!
        XCTAssertEqual(made.sequence, [1, 2])
        XCTAssertEqual(made.fields[.integer(4)], 4)
    }

    func testNestedTablesSurviveRoundTrip() throws {
        let value: LuaValue = [
            "requester": ["mail": "mary@example.com", "name": "Mary"],
            "groups": [0, 2],
            "events": [["type": "message", "date": 1384554260, "is_private": false]],
            "score": 4.5,
        ]
        XCTAssertEqual(try roundTrip(value), value)
        try state.setGlobal("t", value)
        XCTAssertEqual(try state.run("return t.requester.mail, t.groups[2], t.events[1].is_private, #t.groups"), ["mary@example.com", 2, false, 2])
    }

    func testCyclicTableIsAClearErrorNotAHang() throws {
        let before = state.top
        try state.load("local t = {1, 2}; t.self = t; return t")
        try state.call(arguments: 0)
        XCTAssertThrowsError(try state.value(at: -1)) { error in
            XCTAssertEqual((error as? LuaError)?.message, "cannot convert a table that contains itself")
        }
        state.pop()
        XCTAssertEqual(state.top, before)
    }

    func testSharedButAcyclicTablesConvert() throws {
        let made = try state.run("local shared = {1}; return {a = shared, b = shared}")[0]
        XCTAssertEqual(made, ["a": [1], "b": [1]])
    }

    func testTooDeepNestingIsAnErrorNotACrash() throws {
        let before = state.top
        try state.load("local t = {}; local c = t; for i = 1, 1000 do c.x = {}; c = c.x end; return t")
        try state.call(arguments: 0)
        XCTAssertThrowsError(try state.value(at: -1)) { error in
            XCTAssertEqual((error as? LuaError)?.kind, .conversion)
        }
        state.pop()
        XCTAssertEqual(state.top, before)
    }

    func testFunctionsCannotBeCopiedIntoSwift() throws {
        XCTAssertThrowsError(try state.run("return print")) { error in
            XCTAssertEqual((error as? LuaError)?.message, "cannot convert a function value")
        }
        XCTAssertEqual(state.top, 0)
    }

    struct Requester: Codable, Equatable {
        var mail: String
        var name: String?
    }

    struct Sample: Codable, Equatable {
        var id: String
        var count: Int
        var ratio: Double
        var tags: [String]
        var requester: Requester
        var flag: Bool
    }

    func testCodableValuesBecomeTablesAndBack() throws {
        let sample = Sample(id: "Q62JR", count: 3, ratio: 0.5, tags: ["vip", "billing"], requester: .init(mail: "m@x.com", name: nil), flag: true)
        try state.push(encoding: sample)
        try state.setGlobalFromTop("s")
        XCTAssertEqual(try state.run("return s.id, math.type(s.count), s.ratio, s.tags[2], s.requester.mail, s.requester.name, s.flag"),
                       ["Q62JR", "integer", 0.5, "billing", "m@x.com", nil, true])
        try state.load("return s")
        try state.call(arguments: 0, results: 1)
        XCTAssertEqual(try state.decode(Sample.self, at: -1), sample)
        state.pop()
        XCTAssertEqual(state.top, 0)
    }

    func testDecodingATableOfTheWrongShapeThrows() throws {
        try state.load("return {id = 5}")
        try state.call(arguments: 0, results: 1)
        XCTAssertThrowsError(try state.decode(Sample.self, at: -1))
        state.pop()
    }

    struct Numbers: Codable, Equatable {
        var whole: Double
        var huge: UInt64
        var nested: [[Int]]
        var byName: [String: Int]
        var missing: String?
    }

    func testValuesAreConvertedInOnePassKeepingFloatsFloats() throws {
        // Through JSON text, 2.0 came back as the integer 2; in one pass a float stays a float.
        let value = Numbers(whole: 2.0, huge: 1 << 63, nested: [[1, 2], []], byName: ["a": 1], missing: nil)
        try state.push(encoding: value)
        try state.setGlobalFromTop("n")
        XCTAssertEqual(try state.run("return math.type(n.whole), n.whole, math.type(n.huge), #n.nested, #n.nested[2], n.byName.a, n.missing"),
                       ["float", 2.0, "float", 2, 0, 1, nil])
        try state.load("return n")
        try state.call(arguments: 0, results: 1)
        XCTAssertEqual(try state.decode(Numbers.self, at: -1), value, "2^63, beyond Int64, is carried as a float and comes back")
        state.pop()
    }
}

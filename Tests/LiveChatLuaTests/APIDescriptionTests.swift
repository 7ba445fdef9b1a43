import Foundation
import LiveChatSandbox
import LuaHost
import XCTest
@testable import LiveChatLua

/// The API's one description against what the module really has, and against what `help` and
/// the editor types say: every function and parameter appears in both, and a parameter added
/// to the description appears in both too.
final class APIDescriptionTests: XCTestCase {
    /// The functions the modules expose, by their full names, read from a real Lua state.
    private func exposedFunctions() throws -> Set<String> {
        let state = try LuaState()
        try LiveChatModule.install(in: state, settings: ConnectionSettings())
        let names = try state.run("""
            local names = {}
            for _, module in ipairs({ "livechat", "json", "csv" }) do
              for name, value in pairs(_G[module]) do
                if type(value) == "function" then names[#names + 1] = module .. "." .. name end
              end
            end
            return table.concat(names, " ")
            """)
        return Set((names.first?.stringValue ?? "").split(separator: " ").map(String.init))
    }

    func testEveryFunctionTheModulesExposeIsDescribed() throws {
        let described = Set(APIDescription.livechat.functions.map(\.name))
        XCTAssertEqual(try exposedFunctions().subtracting(described), [], "functions with no description")
        XCTAssertEqual(described.subtracting(try exposedFunctions()), [], "descriptions of functions that do not exist")
    }

    func testHelpAndTheEditorTypesNameEveryFunctionAndParameter() throws {
        let description = APIDescription.livechat
        let types = description.luaLanguageServerDefinitions()
        let overview = description.overview()
        for function in description.functions {
            XCTAssertTrue(overview.contains(function.signature), function.name)
            XCTAssertTrue(types.contains("function \(function.name)("), function.name)
            let help = description.help(for: function)
            for parameter in function.parameters {
                XCTAssertTrue(help.contains("  \(parameter.name) "), "\(function.name): \(parameter.name) in help")
                let field = function.style == .table ? "---@field \(parameter.name)" : "---@param \(parameter.name)"
                XCTAssertTrue(types.contains(field), "\(function.name): \(parameter.name) in the types")
            }
        }
        for shape in description.shapes {
            XCTAssertTrue(types.contains("---@class \(shape.name)"), shape.name)
            for field in shape.fields { XCTAssertTrue(description.help(for: shape).contains("  \(field.name) "), field.name) }
        }
    }

    func testAParameterAddedToTheDescriptionAppearsInHelpAndTypes() throws {
        var description = APIDescription.livechat
        let index = try XCTUnwrap(description.functions.firstIndex { $0.name == "livechat.listTickets" })
        description.functions[index].parameters.append(.init(name: "priority", type: "integer", doc: "only tickets of this priority"))
        XCTAssertTrue(description.help(for: description.functions[index]).contains("  priority "))
        XCTAssertTrue(description.luaLanguageServerDefinitions().contains("---@field priority? integer only tickets of this priority"))
        XCTAssertFalse(APIDescription.livechat.luaLanguageServerDefinitions().contains("priority"), "the description is a value")
    }

    func testCheckingUsesTheDescribedFieldsAndChoices() {
        let create = APIDescription.livechat.function(named: "createTicket")!
        XCTAssertEqual(TicketArguments.createFields.union(TicketArguments.connectionFields), Set(create.parameters.map(\.name)))
        XCTAssertEqual(TicketArguments.statuses, ["open", "pending", "solved", "spam"])
    }

    func testTheEditorTypesParseAsLua() throws {
        let state = try LuaState()
        try state.load(APIDescription.livechat.luaLanguageServerDefinitions(), name: "=livechat.lua")
        state.pop()
    }
}

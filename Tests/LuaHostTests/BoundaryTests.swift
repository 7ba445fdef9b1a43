import Foundation
import XCTest

/// The Lua boundary is sealed in LuaHost: no other target imports the C shim or Lua's headers,
/// and no public declaration hands out a `lua_State`. Read from the sources themselves, so that
/// a change that breaks the rule fails here.
final class BoundaryTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Every Swift file under Sources, by target.
    private func sources() throws -> [(target: String, path: String, text: String)] {
        let folder = Self.root.appendingPathComponent("Sources")
        var files: [(String, String, String)] = []
        for target in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
            let enumerator = FileManager.default.enumerator(atPath: folder.appendingPathComponent(target).path)
            while let name = enumerator?.nextObject() as? String {
                guard name.hasSuffix(".swift") else { continue }
                let path = folder.appendingPathComponent(target).appendingPathComponent(name).path
                files.append((target, "Sources/\(target)/\(name)", try String(contentsOfFile: path, encoding: .utf8)))
            }
        }
        XCTAssertGreaterThan(files.count, 50, "the sources were found")
        return files
    }

    func testOnlyLuaHostImportsTheCShim() throws {
        var offenders: [String] = []
        for file in try sources() where file.target != "LuaHost" {
            for line in file.text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.contains("import"), words.contains(where: { $0 == "CLuaShim" || $0 == "CLua" }) {
                    offenders.append("\(file.path): \(line)")
                }
            }
        }
        XCTAssertEqual(offenders, [], "only LuaHost may import CLuaShim or CLua")

        // And no target but LuaHost (and its own tests) depends on it in the package.
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = manifest.components(separatedBy: ".target(").dropFirst()
            + manifest.components(separatedBy: ".executableTarget(").dropFirst()
        for declaration in targets {
            let head = String(declaration.prefix(while: { $0 != ")" }))
            guard head.contains("\"CLuaShim\"") || head.contains("\"CLua\"") else { continue }
            XCTAssertTrue(head.contains("name: \"LuaHost\"") || head.contains("name: \"CLuaShim\""),
                          "a target depends on the C shim: \(head)")
        }
    }

    func testNoPublicDeclarationShowsALuaState() throws {
        var offenders: [String] = []
        for file in try sources() {
            for line in file.text.split(separator: "\n") where line.contains("public ") || line.contains("open ") {
                if line.contains("lua_State") || line.contains("OpaquePointer") {
                    offenders.append("\(file.path): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        XCTAssertEqual(offenders, [], "lua_State pointers stay internal to LuaHost")
    }
}

import Foundation
import XCTest

/// The fuzzers of `scripts/fuzz`, a few thousand cases each, against the built binary: whatever
/// arrives over HTTP or through a Lua call, nothing crashes and the server keeps answering.
/// The seeds are fixed, so that a failure here replays exactly (`--seed`, `--replay`).
final class FuzzTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func testTheSandboxAnswersEveryFuzzedRequestAndStaysUp() throws {
        let run = try BuiltBinary.run(
            ["python3", "scripts/fuzz_http.py", "--binary", BuiltBinary.url.path, "--cases", "3000", "--seed", "20261201",
             "--time-limit", "240", "--quiet"],
            executable: URL(fileURLWithPath: "/usr/bin/env"), currentDirectory: Self.root, timeout: 300)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("http fuzz: 3000 cases, 0 crashes, 0 hangs"), run.stdout)
        XCTAssertTrue(run.stdout.contains("server still answering: yes"), run.stdout)
    }

    func testEveryLuaFunctionReturnsOrRaisesWhateverItIsGiven() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-lua-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = try BuiltBinary.run(
            ["--sandbox", Self.root.appendingPathComponent("scripts/fuzz_lua.lua").path, "2000", "20261201", "240"],
            currentDirectory: scratch, timeout: 300)
        XCTAssertLessThan(run.status, 128, "killed by a signal: \(run.stderr.suffix(2000))")
        XCTAssertTrue(run.stdout.contains("lua fuzz: 2000 cases,"), run.stdout + run.stderr.suffix(2000))
        XCTAssertTrue(run.stdout.contains(" 0 crashes"), run.stdout)
    }
}

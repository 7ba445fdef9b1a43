import Foundation
import XCTest

/// The result of one run of the built `livechat-lua` binary.
struct BinaryRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Locates and runs the `livechat-lua` executable that `swift build` put beside the test bundle.
enum BuiltBinary {
    /// The path of the built executable: the same products folder as this test bundle.
    static var url: URL {
        var dir = Bundle.main.bundleURL
        if dir.pathExtension == "xctest" { dir = dir.deletingLastPathComponent() }
        let candidate = dir.appendingPathComponent("livechat-lua")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        // Fallback: the products folder of the package this file belongs to.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/livechat-lua")
    }

    /// Runs the binary (or another executable) to completion with the given arguments,
    /// environment additions and stdin.
    static func run(
        _ arguments: [String],
        executable: URL = BuiltBinary.url,
        environment: [String: String] = [:],
        stdin: String? = nil,
        currentDirectory: URL? = nil,
        timeout: TimeInterval = 60
    ) throws -> BinaryRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["LUA_INIT"] = nil
        env["LUA_INIT_5_4"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inPipe.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        final class Collected: @unchecked Sendable { var out = Data(), err = Data() }
        let collected = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { collected.out = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { collected.err = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            XCTFail("livechat-lua \(arguments) did not finish within \(timeout)s")
        }
        process.waitUntilExit()
        return BinaryRun(
            status: process.terminationStatus,
            stdout: String(decoding: collected.out, as: UTF8.self),
            stderr: String(decoding: collected.err, as: UTF8.self)
        )
    }
}

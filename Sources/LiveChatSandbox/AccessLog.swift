import Foundation

/// One line per request on stderr: method, path (without the query), status and milliseconds.
/// Headers and bodies, and with them the credentials, are never written.
struct AccessLog: Sendable {
    func record(method: String, path: String, status: Int, elapsed: Duration) {
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let line = "\(method) \(path) \(status) \(String(format: "%.1f", milliseconds))ms\n"
        // fputs takes stdio's lock, so concurrent lines do not interleave.
        fputs(line, stderr)
    }
}

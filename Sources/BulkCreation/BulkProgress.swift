import Foundation
import Synchronization

/// A bulk run's progress on stderr: on a terminal, a bar redrawn in place four times a second
/// (done/total, the rate over the last five seconds, ETA, failures); off a terminal (a log, CI),
/// the same figures on a line every five seconds; and one summary line at the end, always.
final class BulkProgress: Sendable {
    let enabled: Bool
    let dryRun: Bool
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let state: Mutex<State>

    private struct State {
        var totalRows: Int
        var created = 0, skipped = 0, failed = 0
        var started = ContinuousClock.now
        var ticker: Task<Void, Never>?
        var drawn = false
        var finished = false
        /// (when, rows done) at each redraw of the last five seconds: the rate is theirs.
        var samples: [(at: ContinuousClock.Instant, done: Int)] = []
    }

    /// The window the shown rate is measured over.
    static let rateWindow: Duration = .seconds(5)

    init(total: Int, enabled: Bool, dryRun: Bool) {
        self.enabled = enabled
        self.dryRun = dryRun
        state = Mutex(State(totalRows: total))
    }

    /// The rows of the run: it grows while a file is still being read.
    var total: Int { state.withLock { $0.totalRows } }

    func setTotal(_ total: Int) {
        state.withLock { $0.totalRows = total }
    }

    func start() {
        state.withLock { $0.started = .now }
        guard enabled else { return }
        let terminal = isTerminal
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: terminal ? .milliseconds(250) : Self.rateWindow)
                guard !Task.isCancelled else { return }
                self?.draw(inPlace: terminal)
            }
        }
        state.withLock { $0.ticker = ticker }
    }

    func count(_ status: BulkOutcome.Status) {
        state.withLock { state in
            switch status {
            case .created: state.created += 1
            case .skipped: state.skipped += 1
            case .failed, .changed: state.failed += 1
            case .notAttempted: break
            }
        }
    }

    /// Stops redrawing and clears the progress line. Safe to call more than once.
    func finish() {
        let (clear, ticker) = state.withLock { state -> (Bool, Task<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            state.finished = true
            return (state.drawn, state.ticker)
        }
        ticker?.cancel()
        if clear { write("\r\u{1B}[K") }
    }

    /// Seconds since the run started.
    var elapsedSeconds: Double { seconds }

    private var seconds: Double {
        let elapsed = ContinuousClock.now - state.withLock { $0.started }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    private func draw(inPlace: Bool) {
        let now = ContinuousClock.now
        let (done, failed, finished, total, rate) = state.withLock { state -> (Int, Int, Bool, Int, Double) in
            let done = state.created + state.skipped + state.failed
            state.samples.append((now, done))
            state.samples.removeAll { now - $0.at > Self.rateWindow }
            let oldest = state.samples.first ?? (now, done)
            let span = now - oldest.at
            let seconds = Double(span.components.seconds) + Double(span.components.attoseconds) * 1e-18
            let rate = seconds > 0.5 ? Double(done - oldest.done) / seconds : 0
            if inPlace { state.drawn = true }
            return (done, state.failed, state.finished, state.totalRows, rate)
        }
        guard !finished else { return }
        let left = max(0, total - done)
        let eta = rate > 0 ? Self.clock(Double(left) / rate) : "--:--"
        let percent = total > 0 ? done * 100 / total : 100
        let figures = "\(done)/\(total)  \(percent)%  \(String(format: "%.0f", rate))/s  ETA \(eta)  \(failed) failed"
        if inPlace {
            let width = 24
            let filled = total > 0 ? min(width, done * width / total) : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            write("\r\u{1B}[Kbulk [\(bar)] " + figures)
        } else {
            write("bulk: " + figures + "\n")
        }
    }

    /// The last line of a run, printed always.
    func printSummary(journal: String?, results: String?) {
        let (created, skipped, failed) = state.withLock { ($0.created, $0.skipped, $0.failed) }
        guard enabled else { return }
        let elapsed = seconds
        var line: String
        if dryRun {
            line = "bulk: dry run: \(total) rows, \(total - failed) valid, \(failed) invalid; nothing sent"
        } else {
            let rate = elapsed > 0 ? Double(created) / elapsed : 0
            line = "bulk: \(total) rows: \(created) created, \(skipped) skipped (done before), \(failed) failed"
            line += String(format: " in %.1fs (%.0f tickets/s)", elapsed, rate)
            let notStarted = total - created - skipped - failed
            if notStarted > 0 { line += ", \(notStarted) not attempted" }
        }
        if let results { line += "; results: \(results)" }
        if let journal, !dryRun { line += "; journal: \(journal)" }
        write(line + "\n")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// `m:ss` or `h:mm:ss`.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e7 else { return "--:--" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) }
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}

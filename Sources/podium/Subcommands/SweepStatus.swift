import ArgumentParser
import Foundation
import ResultsStore
import Sweeps

extension Podium.Sweep {
  /// `podium sweep status`.
  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Runs done, running, queued, failed and pruned per sweep, the best run, and which worker runs what.",
      discussion: """
        With --watch the status is shown again every --interval seconds until no sweep has a run queued or running: \
        redrawn in place on a terminal, as blocks of plain lines (each headed by the time) when piped.
        """)

    @Option(help: "The results database.") var db = "podium.sqlite"
    @Flag(help: "One JSON object per sweep and line.") var json = false
    @Flag(help: "Show the status again every --interval seconds until nothing is left to run.") var watch = false
    @Option(help: "With --watch: seconds between updates.") var interval = 5

    func validate() throws {
      guard interval >= 1 else { throw ValidationError("--interval must be at least 1 second, got \(interval)") }
    }

    func run() throws {
      let terminal = isatty(1) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
      while true {
        let store = try openMerged(db)
        let summaries = try store.sweepSummaries()
        let lines = try json ? summaries.map(jsonLine) : summaries.flatMap { try self.lines($0, store: store) }
        if watch {
          let clock = DateFormatter.localizedString(from: Date(), dateStyle: .none, timeStyle: .medium)
          print(terminal ? "\u{1B}[H\u{1B}[2J" + "podium sweep status · \(clock) · every \(interval) s (Ctrl-C to stop)" : "-- \(clock) --")
        }
        lines.forEach { print($0) }
        fflush(stdout)
        let open = summaries.contains { ($0.counts["queued"] ?? 0) + ($0.counts["running"] ?? 0) > 0 }
        guard watch, open else { return }
        sleep(UInt32(interval))
      }
    }

    /// A sweep's counts, best run and time left, then one line per running attempt with its
    /// worker and how far its run has come.
    private func lines(_ summary: ResultsStore.SweepSummary, store: ResultsStore) throws -> [String] {
      let counts = RunStatus.summaryOrder.map { "\(summary.counts[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
      let best = summary.bestRun.map { String(format: "; best run %lld: %@ %.4f", $0, summary.metric, summary.bestMetric ?? .nan) } ?? ""
      let eta = summary.etaSeconds.map { String(format: "; about %.0f s left", $0) } ?? ""
      var lines = ["\(summary.name): \(counts)\(best)\(eta)"]
      for attempt in try store.attempts(sweep: summary.id) where attempt.outcome == .running {
        let quiet = Date().timeIntervalSince(attempt.heartbeatAt)
        let done = try store.epochRecords(run: attempt.run).count
        let progress = try store.run(id: attempt.run)?.spec.map { " (epoch \(min(done + 1, $0.training.epochs)) of \($0.training.epochs))" } ?? ""
        lines.append(String(format: "  run %lld%@: attempt %d on %@, last heard from %.0f s ago", attempt.run, progress, attempt.attempt,
                            attempt.worker, quiet))
      }
      return lines
    }
  }
}

/// The store at `path` (which must exist) with the shards of its cluster sweeps merged in
/// first, so that no command shows half a sweep; a shard that cannot be read yet is named
/// on standard error and merged next time.
func openMerged(_ path: String) throws -> ResultsStore {
  let store = try ResultsStore.existing(at: path)
  let merged = try store.mergeRecordedShards()
  for line in merged.skipped { printToStandardError(line) }
  return store
}

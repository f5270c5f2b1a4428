import ArgumentParser
import Foundation
import ResultsStore
import Sweeps

extension Podium.Sweep {
  /// `podium sweep status`.
  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Runs done, running, queued, failed and pruned per sweep, the best run, and which worker runs what.")

    @Option(help: "The results database.") var db = "podium.sqlite"
    @Flag(help: "One JSON object per sweep and line.") var json = false

    func run() throws {
      let store = try openMerged(db)
      for summary in try store.sweepSummaries() {
        if json {
          print(try jsonLine(summary))
          continue
        }
        let counts = RunStatus.summaryOrder.map { "\(summary.counts[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        let best = summary.bestRun.map { String(format: "; best run %lld: %@ %.4f", $0, summary.metric, summary.bestMetric ?? .nan) } ?? ""
        let eta = summary.etaSeconds.map { String(format: "; about %.0f s left", $0) } ?? ""
        print("\(summary.name): \(counts)\(best)\(eta)")
        for attempt in try store.attempts(sweep: summary.id) where attempt.outcome == .running {
          let quiet = Date().timeIntervalSince(attempt.heartbeatAt)
          print(String(format: "  run %lld: attempt %d on %@, last heard from %.0f s ago", attempt.run, attempt.attempt, attempt.worker, quiet))
        }
      }
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

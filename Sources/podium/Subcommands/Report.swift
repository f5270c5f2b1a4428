import ArgumentParser
import Foundation
import Reports
import ResultsStore

extension Podium {
  /// `podium report [--sweep ID] [--db FILE] [--out DIR] [--watch [--interval S]]`.
  struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a sweep's self-contained HTML report and a CSV of every table in it.",
      discussion: """
        The report goes to DIR/<sweep name>/index.html (DIR defaults to reports), with a page per finished run. \
        With --watch the report is rewritten (atomically) every --interval seconds while the sweep has runs queued or \
        running, and the page reloads itself as often; the last write, once nothing is left to run, stays still.
        """)

    @Option(help: "The sweep's id (default: the most recent sweep).") var sweep: Int64?
    @Option(help: "The results database.") var db = "podium.sqlite"
    @Option(help: "Folder that receives <sweep name>/index.html.") var out = "reports"
    @Flag(help: "Rewrite the report as runs finish, until the sweep has nothing left to run.") var watch = false
    @Option(help: "With --watch: seconds between rewrites (and page reloads).") var interval = 10

    func validate() throws {
      guard interval >= 1 else { throw ValidationError("--interval must be at least 1 second, got \(interval)") }
    }

    func run() throws {
      while true {
        let store = try openMerged(db)
        let id = try sweep ?? store.latestSweepID()
        let left = try store.sweepSummaries().first { $0.id == id }.map { ($0.counts["queued"] ?? 0) + ($0.counts["running"] ?? 0) } ?? 0
        let watching = watch && left > 0
        let index = try SweepReport.write(store: store, sweep: id, folder: URL(fileURLWithPath: out), version: PodiumVersion.current,
                                          refresh: watching ? interval : nil)
        guard watching else {
          print("report written to \(index.path)")
          return
        }
        print("report written to \(index.path); \(left) run\(left == 1 ? "" : "s") still to finish, rewriting in \(interval) s")
        sleep(UInt32(interval))
      }
    }
  }
}

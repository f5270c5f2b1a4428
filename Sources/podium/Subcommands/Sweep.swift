import ArgumentParser
import Engine
import Foundation
import ResultsStore
import Sweeps
import Training

extension Podium {
  /// `podium sweep run | status`.
  struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a sweep from a YAML spec (resuming where it stopped) and show its progress.",
      subcommands: [Run.self, Status.self])

    /// `podium sweep run SPEC.yaml`.
    struct Run: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Plan every run of the spec, then run what is not done; running it again after a crash resumes.")

      @Argument(help: "The sweep spec (YAML).") var spec: String
      @Option(help: "The results database.") var db = "podium.sqlite"
      @Option(help: "Folder for run checkpoints.") var work = "runs"

      func run() throws {
        let text: String
        do { text = try FileContents.text(of: URL(fileURLWithPath: spec)) } catch { throw ValidationError("cannot read \(spec)") }
        let parsed = try SweepSpec.parse(text, file: spec)
        let runner = SweepRunner(spec: parsed, specText: text, sink: try ResultsStore(path: db), workFolder: URL(fileURLWithPath: work))
        runner.worker.version = PodiumVersion.current
        runner.observers = [ProgressPrinter(metric: parsed.metric).handle]
        let (done, failed) = try runner.run { printToStandardError($0) }
        print("sweep \(parsed.name): \(done) runs finished, \(failed) failed in this invocation; results in \(db)")
      }
    }

    /// `podium sweep status`.
    struct Status: ParsableCommand {
      static let configuration = CommandConfiguration(abstract: "Runs done, running, queued, failed and pruned per sweep, and the best run.")

      @Option(help: "The results database.") var db = "podium.sqlite"
      @Flag(help: "One JSON object per sweep and line.") var json = false

      func run() throws {
        guard FileManager.default.fileExists(atPath: db) else { throw ValidationError("no results database at \(db)") }
        let store = try ResultsStore(path: db)
        for summary in try store.sweepSummaries() {
          if json {
            print(try jsonLine(summary))
          } else {
            let counts = RunStatus.summaryOrder.map { "\(summary.counts[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
            let best = summary.bestRun.map { String(format: "; best run %lld: %@ %.4f", $0, summary.metric, summary.bestMetric ?? .nan) } ?? ""
            let eta = summary.etaSeconds.map { String(format: "; about %.0f s left", $0) } ?? ""
            print("\(summary.name): \(counts)\(best)\(eta)")
          }
        }
      }
    }
  }
}

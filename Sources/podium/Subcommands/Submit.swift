import ArgumentParser
import Foundation
import Reports
import ResultsStore

extension Podium {
  /// `podium submit (--run ID | --ensemble K) --out FILE`.
  struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a Kaggle submission from one run's predictions or the mean of the top K runs'.",
      discussion: """
        Formats: dogs-vs-cats id,label with P(dog) (Redux; --format binary for the original 0/1), flickr8 id,label with 1-8, \
        others id,label with class names; --format columns writes one probability column per class.
        """)

    @Option(name: .customLong("run"), help: "The run whose predictions to submit.") var runID: Int64?
    @Option(help: "Average the predicted probabilities of the top K runs by validation metric.") var ensemble: Int?
    @Option(help: "The sweep whose runs --ensemble ranks (default: the most recent).") var sweep: Int64?
    @Option(help: "The submission file to write.") var out: String
    @Option(help: "auto, labels, numbers, probability, binary or columns.") var format: SubmissionFormat = .auto
    @Option(help: "The results database.") var db = "podium.sqlite"

    func validate() throws {
      guard (runID == nil) != (ensemble == nil) else { throw ValidationError("give exactly one of --run ID and --ensemble K") }
      if let ensemble, ensemble < 1 { throw ValidationError("--ensemble must be at least 1") }
    }

    func run() throws {
      let rows = try Self.write(run: runID, ensemble: ensemble, sweep: sweep, db: db, out: out, format: format)
      print("submission written to \(out): \(rows.count) rows, \(rows.description)")
    }

    /// Writes the submission and returns its row count and a description of its source.
    static func write(run: Int64?, ensemble: Int?, sweep: Int64?, db: String, out: String, format: SubmissionFormat) throws
      -> (count: Int, description: String)
    {
      let store = try openStore(db)
      let (runs, sweepID) = try chooseRuns(run: run, ensemble: ensemble, sweep: sweep, store: store)
      guard let dataset = try store.dataset(ofSweep: sweepID) else { throw ValidationError("sweep \(sweepID) was stored without its dataset") }
      let chosen = format == .auto ? SubmissionFormat.competitionDefault(adapter: dataset.adapter) : format
      let submission = try Submission(predictions: try Ensemble.mean(of: runs, in: store), classNames: dataset.classNames, format: chosen)
      try submission.write(to: URL(fileURLWithPath: out))
      let source = runs.count == 1 ? "run \(runs[0])" : "mean of runs \(runs.map(String.init).joined(separator: ", "))"
      return (submission.rows.count, "\(source), format \(chosen.rawValue)")
    }

    private static func chooseRuns(run: Int64?, ensemble: Int?, sweep: Int64?, store: ResultsStore) throws -> ([Int64], Int64) {
      if let run {
        guard let stored = try store.run(id: run) else { throw ValidationError("no run with id \(run) in the database") }
        guard stored.status.isFinished else { throw ValidationError("run \(run) is \(stored.status.rawValue), not finished") }
        return ([run], stored.sweepID)
      }
      let sweepID = try sweep ?? latestSweep(store)
      let results = try SweepResults.load(from: store, sweep: sweepID)
      let top = results.ranked.prefix(ensemble ?? 1).map(\.id)
      guard !top.isEmpty else { throw ValidationError("sweep \(results.sweep.name) has no finished run to submit") }
      return (Array(top), sweepID)
    }
  }
}

extension SubmissionFormat: ExpressibleByArgument {}

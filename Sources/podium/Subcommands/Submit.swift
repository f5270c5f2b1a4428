import ArgumentParser
import Foundation
import Reports
import ResultsStore

extension Podium {
  /// `podium submit (--run ID | --ensemble K) [--like SAMPLE.csv] --out FILE`.
  struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a Kaggle submission from one run's predictions or the mean of the top K runs'.",
      discussion: """
        Formats: dogs-vs-cats id,label with P(dog) (Redux; --format binary for the original 0/1), flickr8 id,label with 1-8, \
        others id,label with class names; --format columns writes one probability column per class. \
        With --like sample_submission.csv the file copies the sample's header and row order and fills its columns as the \
        sample's values say (class names or whole numbers: labels; fractions such as 0.5: the probability of the positive \
        class; one column per class: probabilities); --format overrides.
        """)

    @Option(name: .customLong("run"), help: "The run whose predictions to submit.") var runID: Int64?
    @Option(help: "Average the predicted probabilities of the top K runs by validation metric.") var ensemble: Int?
    @Option(help: "The sweep whose runs --ensemble ranks (default: the most recent).") var sweep: Int64?
    @Option(help: "The submission file to write.") var out: String
    @Option(help: "auto, labels, numbers, probability, binary or columns.") var format: SubmissionFormat = .auto
    @Option(help: "The results database.") var db = "podium.sqlite"
    @Option(help: "The competition's sample submission: copy its header and row order.") var like: String?
    @Option(help: "Write the K most likely labels, space-separated, best first (MAP@K competitions).") var top: Int?

    func validate() throws {
      guard (runID == nil) != (ensemble == nil) else { throw ValidationError("give exactly one of --run ID and --ensemble K") }
      if let ensemble, ensemble < 1 { throw ValidationError("--ensemble must be at least 1") }
      if let top, top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
    }

    func run() throws {
      let source: SubmissionSource = runID.map { .run($0) } ?? .ensemble(count: ensemble ?? 1, sweep: sweep)
      let sample = try like.map { try SampleSubmission(contentsOf: URL(fileURLWithPath: $0)) }
      let plan = try SubmissionPlan(source, store: try openMerged(db), format: format, like: sample, top: top)
      try plan.submission.write(to: URL(fileURLWithPath: out))
      print("submission written to \(out): \(plan.submission.rows.count) rows, \(plan.summary)")
    }
  }
}

extension SubmissionFormat: ExpressibleByArgument {}

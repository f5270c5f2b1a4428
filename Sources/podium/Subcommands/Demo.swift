import ArgumentParser
import Backbones
import Datasets
import Foundation
import Reports
import ResultsStore
import Sweeps
import Training

extension Podium {
  /// `podium demo`: the main job on the embedded default dataset, start to finish.
  struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Generate the demo dataset, run the default sweep, and write its report, leaderboard and submission.",
      discussion: """
        small_cnn is trained from scratch; efficientnet_lite0 is used as a frozen feature extractor and fine-tuned when its \
        weights are found (`podium weights fetch efficientnet_lite0`). Running it again resumes the sweep and rewrites the outputs.
        """)

    @Option(help: "Where the demo dataset is written, kept if already there (default: datasets/demo, or datasets/demo-quick).")
    var root: String?
    @Flag(help: "A small dataset and two epochs per run: the whole pipeline in seconds.") var quick = false
    @Option(help: "The results database.") var db = "podium.sqlite"
    @Option(help: "Folder for run checkpoints.") var work = "runs"
    @Option(help: "Folder for reports.") var reports = "reports"
    @Option(help: "Folder for leaderboards.") var leaderboards = "leaderboards"

    private var name: String { quick ? "demo-quick" : "demo" }
    private var datasetRoot: String { root ?? "datasets/\(name)" }

    func run() throws {
      let rootURL = URL(fileURLWithPath: datasetRoot)
      if !FileManager.default.fileExists(atPath: rootURL.appendingPathComponent("answers.csv").path) {
        try (quick ? DemoDataset(imagesPerClass: 12, testImagesPerClass: 2, size: 32) : DemoDataset()).write(to: rootURL)
      }
      let pretrained = WeightLocator().locate(.efficientNetLite0) != nil
      if !pretrained {
        print("efficientnet_lite0 weights not found: only small_cnn from scratch runs; `podium weights fetch efficientnet_lite0` adds the pretrained strategies")
      }
      let spec = SweepSpec.demo(name: name, root: datasetRoot, pretrained: pretrained, quick: quick)
      let text = try spec.yaml()
      print("demo dataset: \(datasetRoot) (\(DemoDataset.classNames.count) classes); sweep \(spec.name): \(try spec.expand().runs.count) runs")
      let runner = SweepRunner(spec: spec, specText: text, sink: try ResultsStore(path: db), workFolder: URL(fileURLWithPath: work))
      runner.worker.version = PodiumVersion.current
      runner.observers = [ProgressPrinter(metric: spec.metric).handle]
      let start = Date()
      let (done, failed) = try runner.run { printToStandardError($0) }
      print(String(format: "sweep finished in %.0f s: %d runs done, %d failed in this invocation", Date().timeIntervalSince(start), done, failed))
      try writeOutputs(sweepName: spec.name)
    }

    /// Report, leaderboard, an ensemble submission and its score against the demo's answers.
    private func writeOutputs(sweepName: String) throws {
      let store = try ResultsStore(path: db)
      guard let sweep = try store.sweeps().last(where: { $0.name == sweepName }) else { throw ValidationError("the demo sweep is not in \(db)") }
      let index = try SweepReport.write(store: store, sweep: sweep.id, folder: URL(fileURLWithPath: reports), version: PodiumVersion.current)
      let boards = try Leaderboard.writeFiles(store: store, dataset: name, metric: nil, folder: URL(fileURLWithPath: leaderboards))
      let submission = index.deletingLastPathComponent().appendingPathComponent("submission.csv")
      let plan = try SubmissionPlan(.ensemble(count: 3, sweep: sweep.id), store: store, format: .auto)
      try plan.submission.write(to: submission)
      let answers = URL(fileURLWithPath: datasetRoot).appendingPathComponent("answers.csv")
      let score = try Scorer(metric: .accuracy).score(submission: submission, answers: answers)
      print("""

        report:      \(index.path)
        leaderboard: \(boards.map(\.markdown.path).joined(separator: ", "))
        submission:  \(submission.path) (\(plan.submission.rows.count) rows, \(plan.summary))
        \(Score.describe(score, submission: "score of the submission against \(answers.path)"))
        """)
    }
  }
}

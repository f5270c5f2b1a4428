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

    @Option(help: "Where the demo dataset is written (kept if already there).") var root = "datasets/demo"
    @Option(help: "The results database.") var db = "podium.sqlite"
    @Option(help: "Folder for run checkpoints.") var work = "runs"
    @Option(help: "Folder for reports.") var reports = "reports"
    @Option(help: "Folder for leaderboards.") var leaderboards = "leaderboards"

    func run() throws {
      let rootURL = URL(fileURLWithPath: root)
      if !FileManager.default.fileExists(atPath: rootURL.appendingPathComponent("answers.csv").path) {
        try DemoDataset().write(to: rootURL)
      }
      let pretrained = WeightLocator().locate(.efficientNetLite0) != nil
      if !pretrained {
        print("efficientnet_lite0 weights not found: only small_cnn from scratch runs; `podium weights fetch efficientnet_lite0` adds the pretrained strategies")
      }
      let text = Self.spec(root: root, pretrained: pretrained)
      let spec = try SweepSpec.parse(text, file: "demo sweep")
      print("demo dataset: \(root) (\(DemoDataset.classNames.count) classes); sweep \(spec.name): \(try spec.expand().runs.count) runs")
      let runner = SweepRunner(spec: spec, specText: text, sink: try ResultsStore(path: db), workFolder: URL(fileURLWithPath: work))
      runner.version = PodiumVersion.current
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
      let index = try Report.write(sweep: sweep.id, db: db, out: reports)
      let boards = try LeaderboardCommand.write(dataset: "demo", metric: nil, db: db, out: leaderboards)
      let submission = index.deletingLastPathComponent().appendingPathComponent("submission.csv")
      let written = try Submit.write(run: nil, ensemble: 3, sweep: sweep.id, db: db, out: submission.path, format: .auto)
      let answers = URL(fileURLWithPath: root).appendingPathComponent("answers.csv")
      let score = try Scorer(metric: .accuracy).score(submission: submission, answers: answers)
      print("""

        report:      \(index.path)
        leaderboard: \(boards.map(\.markdown.path).joined(separator: ", "))
        submission:  \(submission.path) (\(written.count) rows, \(written.description))
        \(Score.describe(score, submission: "score of the submission against \(answers.path)"))
        """)
    }

    /// The default sweep: small_cnn from scratch; with weights, efficientnet_lite0 as a
    /// feature extractor (linear and MLP heads) and fine-tuned.
    static func spec(root: String, pretrained: Bool) -> String {
      var grids = ["  - {backbone: [small_cnn], strategy: [scratch], lr: [0.003, 0.001], image_size: [64], epochs: [40]}"]
      if pretrained {
        grids += ["  - {backbone: [efficientnet_lite0], strategy: [features], lr: [0.003, 0.001], head: [linear, mlp], image_size: [160]}",
                  "  - {backbone: [efficientnet_lite0], strategy: [finetune], lr: [0.003], image_size: [160], head_epochs: [5], epochs: [6]}"]
      }
      return """
        name: demo
        dataset: {adapter: natural-images, name: demo, root: "\(root)", split: {train: 0.5, val: 0.25, test: 0.25, seed: 0}}
        metric: accuracy
        grid:
        \(grids.joined(separator: "\n"))
        fixed: {epochs: 10, batch_size: 32, augment: light}

        """
    }
  }
}

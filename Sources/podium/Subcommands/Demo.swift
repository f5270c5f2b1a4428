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
      let text = Self.spec(name: name, root: datasetRoot, pretrained: pretrained, quick: quick)
      let spec = try SweepSpec.parse(text, file: "demo sweep")
      print("demo dataset: \(datasetRoot) (\(DemoDataset.classNames.count) classes); sweep \(spec.name): \(try spec.expand().runs.count) runs")
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
      let boards = try LeaderboardCommand.write(dataset: name, metric: nil, db: db, out: leaderboards)
      let submission = index.deletingLastPathComponent().appendingPathComponent("submission.csv")
      let written = try Submit.write(run: nil, ensemble: 3, sweep: sweep.id, db: db, out: submission.path, format: .auto)
      let answers = URL(fileURLWithPath: datasetRoot).appendingPathComponent("answers.csv")
      let score = try Scorer(metric: .accuracy).score(submission: submission, answers: answers)
      print("""

        report:      \(index.path)
        leaderboard: \(boards.map(\.markdown.path).joined(separator: ", "))
        submission:  \(submission.path) (\(written.count) rows, \(written.description))
        \(Score.describe(score, submission: "score of the submission against \(answers.path)"))
        """)
    }

    /// The default sweep: small_cnn from scratch; with weights, efficientnet_lite0 as a
    /// feature extractor (linear and MLP heads) and fine-tuned (without augmentation, so its
    /// head phase reuses the cached features). `quick` keeps one value of each and two
    /// epochs on small images.
    static func spec(name: String, root: String, pretrained: Bool, quick: Bool) -> String {
      let (rates, heads, epochs) = quick ? ("[0.003]", "[linear]", ["2", "2", "1"]) : ("[0.003, 0.001]", "[linear, mlp]", ["40", "10", "6"])
      let (small, large, headEpochs) = quick ? (32, 64, 1) : (64, 160, 5)
      var grids = ["  - {backbone: [small_cnn], strategy: [scratch], lr: \(rates), image_size: [\(small)], epochs: [\(epochs[0])]}"]
      if pretrained {
        grids += ["  - {backbone: [efficientnet_lite0], strategy: [features], lr: \(rates), head: \(heads), image_size: [\(large)], epochs: [\(epochs[1])]}",
                  "  - {backbone: [efficientnet_lite0], strategy: [finetune], lr: [0.003], image_size: [\(large)], head_epochs: [\(headEpochs)], epochs: [\(epochs[2])], augment: [none]}"]
      }
      return """
        name: \(name)
        dataset: {adapter: natural-images, name: \(name), root: "\(root)", split: {train: 0.5, val: 0.25, test: 0.25, seed: 0}}
        metric: accuracy
        grid:
        \(grids.joined(separator: "\n"))
        fixed: {batch_size: 32, augment: light}

        """
    }
  }
}

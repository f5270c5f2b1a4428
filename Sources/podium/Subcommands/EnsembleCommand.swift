import ArgumentParser
import Foundation
import Reports
import ResultsStore
import Training

extension Podium {
  /// `podium ensemble (--sweep ID | --runs 3,5,8) --method mean|weighted|greedy --out FILE`.
  struct EnsembleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ensemble",
      abstract: "Choose an ensemble of runs on their validation (or out-of-fold) predictions and write its submission.",
      discussion: """
        greedy is Caruana et al.'s ensemble selection with replacement (ICML 2004): it adds, --size times, the run that most \
        improves the averaged validation prediction and keeps the best ensemble seen, so it never scores below the best \
        single run on validation; weighted weighs each run by its own validation metric; mean weighs all alike. In a \
        cross-validated sweep the members are configurations, chosen on their out-of-fold predictions, and each predicts \
        the test images as the mean of its fold models. The test split is never used to choose. The submission takes the \
        same options as `podium submit`.
        """)

    @Option(help: "Choose among the finished runs of this sweep (default: the most recent).") var sweep: Int64?
    @Option(help: "Choose among these runs (comma-separated ids; a fold run stands for its cross-validated configuration).")
    var runs: String?
    @Option(help: "mean, weighted or greedy.") var method: EnsembleSelection.Method = .greedy
    @Option(help: "greedy: additions (with replacement).") var size = 20
    @Option(help: "The metric to choose by (default: the sweep's).") var metric: MetricName?
    @Option(help: "The submission file to write.") var out: String
    @Option(help: "auto, labels, numbers, probability, binary or columns.") var format: SubmissionFormat = .auto
    @Option(help: "The competition's sample submission: copy its header and row order.") var like: String?
    @Option(help: "The results database.") var db = "podium.sqlite"

    func validate() throws {
      guard sweep == nil || runs == nil else { throw ValidationError("give --sweep or --runs, not both") }
      guard size >= 1 else { throw ValidationError("--size must be at least 1, got \(size)") }
      if let runs, runs.split(separator: ",").contains(where: { Int64($0.trimmingCharacters(in: .whitespaces)) == nil }) {
        throw ValidationError("--runs takes run ids separated by commas, got \(runs)")
      }
    }

    func run() throws {
      let store = try openMerged(db)
      let sweepID = try sweep ?? store.latestSweepID()
      guard let stored = try store.sweep(id: sweepID) else { throw ValidationError("no sweep \(sweepID) in \(db)") }
      let metric = metric ?? stored.metric
      let models = try runs.map { try chosenModels($0, store: store, metric: metric) } ?? SweepModel.ranked(sweep: sweepID, in: store, metric: metric)
      let selection = try EnsembleSelection(models: models, metric: metric, method: method, size: size)
      let names = Dictionary(models.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
      let on = selection.onOutOfFold ? "out-of-fold" : "validation"
      print(String(format: "%@ ensemble of %d: %@ %@ %.4f (best single, %@: %.4f)", method.rawValue, selection.weights.count, on,
                   selection.metric.rawValue, selection.score, names[selection.bestSingle.run]!, selection.bestSingle.score))
      for (run, weight) in selection.weights { print(String(format: "  %@: weight %.3f", names[run]!, weight)) }
      let sample = try like.map { try SampleSubmission(contentsOf: URL(fileURLWithPath: $0)) }
      let plan = try SubmissionPlan(.weighted(Dictionary(uniqueKeysWithValues: selection.weights.map { ($0.run, $0.weight) })), store: store,
                                    format: format, like: sample)
      try plan.submission.write(to: URL(fileURLWithPath: out))
      print("submission written to \(out): \(plan.submission.rows.count) rows, \(plan.summary)")
    }

    /// The models of the listed runs, each once (fold runs of one configuration are one model).
    private func chosenModels(_ list: String, store: ResultsStore, metric: MetricName) throws -> [SweepModel] {
      var models: [SweepModel] = []
      for id in list.split(separator: ",").map({ Int64($0.trimmingCharacters(in: .whitespaces))! }) {
        let model = try SweepModel.containing(run: id, in: store, metric: metric)
        if !models.contains(where: { $0.id == model.id }) { models.append(model) }
      }
      return models
    }
  }
}

extension EnsembleSelection.Method: ExpressibleByArgument {}

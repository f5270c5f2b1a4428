import ArgumentParser
import Backbones
import Datasets
import Engine
import Foundation
import Reports
import Training

extension Podium {
  /// `podium train`: one run, every hyperparameter a flag.
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train one backbone with one strategy on a dataset and report its validation and test metrics.")

    @Option(help: "ADAPTER:PATH, e.g. natural-images:datasets/natural_images.")
    var dataset: String
    @Option(name: .customLong("option"), help: "An adapter option as key=value (repeatable).")
    var options: [String] = []
    @Option(help: "A split preset of the dataset (see `podium datasets inspect`) or train,validation,test fractions.")
    var split = "default"
    @OptionGroup(title: "Hyperparameters (the keys of a sweep spec)") var hyperparameters: HyperparameterOptions
    @Option(help: "The metric that picks the best epoch and drives early stopping.") var metric: MetricName = .accuracy
    @Option(help: "Folder for checkpoints; an interrupted run resumes from it.") var out: String?
    @Option(help: "k-fold cross-validation: train once per fold on the other folds (of every image outside the test split).")
    var folds: Int?
    @Option(help: "With --folds: the seed of the fold assignment.") var cvSeed: UInt64 = 0
    @Option(help: "With --folds: a column of the csv adapter's labels file naming each image's group (one patient's images stay in one fold).")
    var groupColumn: String?
    @Option(help: "With --folds: write the out-of-fold predictions here as CSV (path, label, one probability column per class).")
    var oof: String?

    func validate() throws {
      guard dataset.contains(":") else { throw ValidationError("--dataset must be ADAPTER:PATH, got \(dataset)") }
      if let folds, !(2...CrossValidation.maxFolds).contains(folds) {
        throw ValidationError("--folds must be between 2 and \(CrossValidation.maxFolds), got \(folds)")
      }
      if folds == nil, groupColumn != nil || oof != nil { throw ValidationError("--group-column and --oof need --folds") }
    }

    func run() throws {
      let (adapter, loaded) = try loadDataset(dataset, options: options, groupColumn: groupColumn)
      let spec = try hyperparameters.runSpec(metric: metric)
      let crossValidation = folds.map { CrossValidation(folds: $0, seed: cvSeed, groupColumn: groupColumn) }
      let split = try Split(loaded, spec: try SplitChoice(parsing: split).resolve(in: loaded), seed: spec.training.seed,
                            crossValidation: crossValidation)
      guard crossValidation != nil else {
        print("\(spec.backbone.rawValue) \(spec.strategy.rawValue) on \(adapter.rawValue): \(split.train.count) train, \(split.validation.count) validation, \(split.test.count) test images")
        printTest(try train(spec, loaded, split, folder: out).test?.metrics)
        return
      }
      print("\(spec.backbone.rawValue) \(spec.strategy.rawValue) on \(adapter.rawValue): \(split.folds.count)-fold cross-validation over "
        + "\(split.train.count) images (folds of \(split.folds.map { String($0.count) }.joined(separator: ", "))), \(split.test.count) test images")
      var results: [RunResult] = []
      for fold in split.folds.indices {
        print("fold \(fold + 1) of \(split.folds.count):")
        results.append(try train(spec, loaded, try split.holdingOut(fold: fold), folder: out.map { "\($0)/fold-\(fold)" }))
      }
      try report(try CrossValidatedResult(folds: results), classNames: loaded.classNames)
    }

    /// One run, its epochs printed as they finish.
    private func train(_ spec: RunSpec, _ dataset: Dataset, _ split: Split, folder: String?) throws -> RunResult {
      var run = TrainingRun(spec: spec, dataset: dataset, split: split, folder: folder.map { URL(fileURLWithPath: $0) })
      run.observers = [ProgressPrinter(metric: metric).handle]
      return try run.run()
    }

    private func printTest(_ test: ClassificationMetrics?, label: String = "test") {
      guard let test else { return }
      print(String(format: "%@: accuracy %.4f  mean-class-accuracy %.4f  macro-f1 %.4f  logloss %.4f",
                   label, test.accuracy, test.meanClassAccuracy, test.macroF1, test.logLoss))
    }

    /// The CV score, the fold spread, the fold models' mean on test, and the OOF file.
    private func report(_ result: CrossValidatedResult, classNames: [String]) throws {
      let scores = result.foldScores(metric)
      let spread = foldSpread(scores)!
      print(String(format: "CV %@ %.4f over %d out-of-fold predictions; folds %@ (mean %.4f ± %.4f)", metric.rawValue, result.metrics.value(metric),
                   result.outOfFold.samples.count, scores.map { String(format: "%.4f", $0) }.joined(separator: ", "), spread.mean, spread.std))
      printTest(result.metrics, label: "out of fold")
      printTest(result.test?.metrics, label: "test (mean of the fold models)")
      guard let oof else { return }
      let predictions = result.outOfFold
      let rows = predictions.samples.enumerated().map { index, sample in
        [sample.path, classNames[sample.label ?? 0]]
          + predictions.probabilities[(index * predictions.classes)..<((index + 1) * predictions.classes)].map { String($0) }
      }
      try AtomicFile.write(CSVText.document(header: ["path", "label"] + classNames, rows: rows), to: URL(fileURLWithPath: oof))
      print("out-of-fold predictions written to \(oof)")
    }
  }
}

extension MetricName: ExpressibleByArgument {}

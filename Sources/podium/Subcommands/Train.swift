import ArgumentParser
import Backbones
import Datasets
import Engine
import Foundation
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

    func validate() throws {
      guard dataset.contains(":") else { throw ValidationError("--dataset must be ADAPTER:PATH, got \(dataset)") }
    }

    func run() throws {
      let colon = dataset.firstIndex(of: ":")!
      guard let adapter = DatasetAdapter(rawValue: String(dataset[..<colon])) else {
        throw ValidationError("unknown adapter \(dataset[..<colon]); see `podium datasets list`")
      }
      let loaded = try adapter.load(root: URL(fileURLWithPath: String(dataset[dataset.index(after: colon)...])), options: try adapterOptions(options))
      let spec = try hyperparameters.runSpec(metric: metric)
      let split = try Split(loaded, spec: try SplitChoice(parsing: split).resolve(in: loaded), seed: spec.training.seed)
      var run = TrainingRun(spec: spec, dataset: loaded, split: split, folder: out.map { URL(fileURLWithPath: $0) })
      let printer = ProgressPrinter(metric: metric)
      run.observers = [printer.handle]
      print("\(spec.backbone.rawValue) \(spec.strategy.rawValue) on \(adapter.rawValue): \(split.train.count) train, \(split.validation.count) validation, \(split.test.count) test images")
      let result = try run.run()
      if let test = result.test?.metrics {
        print(String(format: "test: accuracy %.4f  mean-class-accuracy %.4f  macro-f1 %.4f  logloss %.4f",
                     test.accuracy, test.meanClassAccuracy, test.macroF1, test.logLoss))
      }
    }
  }
}

extension MetricName: ExpressibleByArgument {}

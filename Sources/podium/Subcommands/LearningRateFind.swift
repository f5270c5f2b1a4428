import ArgumentParser
import Datasets
import Engine
import Foundation
import Reports
import Training

extension Podium {
  /// `podium lr-find --dataset ADAPTER:PATH --backbone NAME --strategy S [hyperparameters]`.
  struct LearningRateFind: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "lr-find",
      abstract: "Run the learning-rate range test and suggest a rate (Smith 2015; fastai's lr_find).",
      discussion: """
        Trains a throw-away copy of the run's model for one short pass with the rate growing exponentially from --start \
        to --end, smooths the loss (a debiased moving average) and stops once it exceeds four times its minimum. Prints \
        two suggestions, the steepest descent of the smoothed loss and a tenth of the rate at its minimum, and writes a \
        plot. For features and finetune the pass trains a new head on the frozen trunk's cached features. A sweep spec's \
        `lr: find` (or `podium train --lr find`) runs the same pass before each run and trains at the steepest descent.
        """)

    @Option(help: "ADAPTER:PATH, e.g. natural-images:datasets/natural_images.") var dataset: String
    @Option(name: .customLong("option"), help: "An adapter option as key=value (repeatable).") var options: [String] = []
    @Option(help: "A split preset of the dataset or train,validation,test fractions.") var split = "default"
    @OptionGroup(title: "Hyperparameters (the keys of a sweep spec)") var hyperparameters: HyperparameterOptions
    @Option(help: "Steps of the pass.") var steps = 100
    @Option(help: "The first rate.") var start: Float = 1e-7
    @Option(help: "The last rate.") var end: Float = 10
    @Option(help: "The plot to write (SVG).") var plot = "lr-find.svg"

    func validate() throws {
      guard steps >= 5 else { throw ValidationError("--steps must be at least 5, got \(steps)") }
      guard start > 0, end > start else { throw ValidationError("--start and --end must satisfy 0 < start < end, got \(start) and \(end)") }
    }

    func run() throws {
      let (_, loaded) = try loadDataset(dataset, options: options)
      let spec = try hyperparameters.runSpec(metric: .accuracy)
      let split = try Split(loaded, spec: try SplitChoice(parsing: split).resolve(in: loaded), seed: spec.training.seed)
      var finder = LearningRateFinder()
      (finder.steps, finder.start, finder.end) = (steps, start, end)
      let found = try TrainingRun(spec: spec, dataset: loaded, split: split).findLearningRate(finder)
      let stop = found.diverged ? String(format: ", stopped on divergence at %.2e", found.rates.last ?? end) : ""
      print(String(format: "%d steps from %.1e%@", found.rates.count, found.rates.first ?? start, stop))
      if let minimum = found.minimumIndex, let steepest = found.steepest, let tenth = found.minimumTenth {
        print(String(format: "smoothed loss lowest (%.4f) at %.2e", found.smoothed[minimum], found.rates[minimum]))
        print(String(format: "suggested learning rate: %.2e (steepest descent); minimum / 10: %.2e", steepest, tenth))
      } else {
        print("no suggestion: the smoothed loss never fell 1% below where the pass began; try other --start/--end, or another optimizer")
      }
      try AtomicFile.write(LearningRatePlot.svg(found), to: URL(fileURLWithPath: plot))
      print("plot written to \(plot)")
    }
  }
}

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
    @Option var backbone: BackboneName
    @Option var strategy: Strategy
    @Option(help: "Epochs (of the fine-tuning phase for finetune).") var epochs = 10
    @Option(name: .customLong("batch-size")) var batchSize = 32
    @Option(name: .customLong("lr"), help: "Learning rate.") var learningRate: Float = 1e-3
    @Option var optimizer: TrainingConfiguration.OptimizerKind = .adam
    @Option var momentum: Float = 0.9
    @Option(name: .customLong("weight-decay")) var weightDecay: Float = 0
    @Option var schedule: TrainingConfiguration.ScheduleKind = .cosine
    @Option(name: .customLong("warmup-epochs")) var warmupEpochs = 0
    @Option(name: .customLong("label-smoothing")) var labelSmoothing: Float = 0
    @Option(name: .customLong("class-weight"), help: "none, or balanced for imbalanced classes.")
    var classWeight: TrainingConfiguration.ClassWeighting = .none
    @Option(help: "Stop after this many epochs without improvement.") var patience: Int?
    @Option var metric: MetricName = .accuracy
    @Option(help: "Augmentation preset: none, light, keras, strong.") var augment = "light"
    @Option(name: .customLong("head-epochs"), help: "finetune: epochs of head-only training first.") var headEpochs = 1
    @Option(help: "finetune: stages to unfreeze from the top.") var unfreeze = 1
    @Option(name: .customLong("image-size"), help: "Square input side (default: the backbone's).") var imageSize: Int?
    @Option(help: "features: hidden width of an MLP head (default: a linear head).") var hidden: Int?
    @Option(name: .customLong("feature-stage"), help: "features: use the flattened activations after this stage (e.g. stage6, layer3).")
    var featureStage: String?
    @Option(name: .customLong("lr-decay"), help: "finetune: each unfrozen stage trains at this factor of the rate of the one above (0-1].")
    var lrDecay: Float?
    @Option(name: .customLong("augment-copies"), help: "features: augmented passes over the training images, cached with the plain features.")
    var augmentCopies = 0
    @Option(help: "softmax, or ovr: one sigmoid per class trained with binary cross-entropy.")
    var objective: TrainingConfiguration.Objective = .softmax
    @Option(help: "features: dropout of the MLP head.") var dropout: Float = 0.5
    @Option(name: .customLong("head-init"), help: "The new classifier's start: zero (default on pretrained features) or uniform (PyTorch's draw; default for scratch).")
    var headInit: LinearInitialization?
    @Option var seed: UInt64 = 0
    @Option(help: "Folder for checkpoints; an interrupted run resumes from it.") var out: String?

    func validate() throws {
      guard dataset.contains(":") else { throw ValidationError("--dataset must be ADAPTER:PATH, got \(dataset)") }
      guard epochs >= 1, batchSize >= 1, learningRate > 0 || learningRate == 0 else { throw ValidationError("--epochs and --batch-size must be positive") }
      if let lrDecay, !(lrDecay > 0 && lrDecay <= 1) { throw ValidationError("--lr-decay must be in (0, 1]") }
      guard strategy.applies(to: backbone) else { throw ValidationError("\(backbone.rawValue) has no pretrained weights: use --strategy scratch") }
    }

    func run() throws {
      let colon = dataset.firstIndex(of: ":")!
      guard let adapter = DatasetAdapter(rawValue: String(dataset[..<colon])) else {
        throw ValidationError("unknown adapter \(dataset[..<colon]); see `podium datasets list`")
      }
      let loaded = try adapter.load(root: URL(fileURLWithPath: String(dataset[dataset.index(after: colon)...])), options: try adapterOptions(options))
      let split = try Split(loaded, spec: try splitSpec(loaded), seed: seed)
      let spec = makeSpec()
      var run = TrainingRun(spec: spec, dataset: loaded, split: split, folder: out.map { URL(fileURLWithPath: $0) })
      let printer = ProgressPrinter(metric: metric)
      run.observers = [printer.handle]
      print("\(backbone.rawValue) \(strategy.rawValue) on \(adapter.rawValue): \(split.train.count) train, \(split.validation.count) validation, \(split.test.count) test images")
      let result = try run.run()
      if let test = result.test?.metrics {
        print(String(format: "test: accuracy %.4f  mean-class-accuracy %.4f  macro-f1 %.4f  logloss %.4f",
                     test.accuracy, test.meanClassAccuracy, test.macroF1, test.logLoss))
      }
    }

    private func makeSpec() -> RunSpec {
      var spec = RunSpec(backbone: backbone, strategy: strategy)
      var t = TrainingConfiguration()
      (t.epochs, t.batchSize, t.learningRate, t.optimizer, t.momentum, t.weightDecay) = (epochs, batchSize, learningRate, optimizer, momentum, weightDecay)
      (t.schedule, t.warmupEpochs, t.labelSmoothing, t.patience, t.metric, t.seed) = (schedule, warmupEpochs, labelSmoothing, patience, metric, seed)
      (t.classWeight, t.objective) = (classWeight, objective)
      spec.training = t
      (spec.augmentation, spec.headEpochs, spec.unfreeze, spec.imageSize) = (augment, headEpochs, unfreeze, imageSize)
      (spec.hidden, spec.dropout, spec.featureStage) = (hidden, dropout, featureStage)
      spec.augmentCopies = augmentCopies > 0 ? augmentCopies : nil
      (spec.lrDecay, spec.headInit) = (lrDecay, headInit)
      return spec
    }

    private func splitSpec(_ dataset: Dataset) throws -> SplitSpec {
      if let preset = dataset.presets[split] { return preset }
      let parts = split.split(separator: ",").compactMap { Double($0) }
      guard parts.count == 3 else {
        throw ValidationError("--split \(split) is neither a preset (\(dataset.presets.keys.sorted().joined(separator: ", "))) nor three fractions")
      }
      return .fractions(train: parts[0], validation: parts[1], test: parts[2])
    }
  }
}

extension Strategy: ExpressibleByArgument {}
extension MetricName: ExpressibleByArgument {}
extension TrainingConfiguration.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfiguration.ScheduleKind: ExpressibleByArgument {}
extension TrainingConfiguration.ClassWeighting: ExpressibleByArgument {}
extension TrainingConfiguration.Objective: ExpressibleByArgument {}
extension LinearInitialization: ExpressibleByArgument {}

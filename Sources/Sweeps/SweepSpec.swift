import Backbones
import Datasets
import Engine
import Foundation
import Training
import Yams

/// A sweep as a YAML file describes it: the dataset and its split, the metric, a grid and
/// random draws over hyperparameters, fixed values, a budget and a pruning rule.
///
/// ```yaml
/// name: natural-images-baseline
/// dataset:
///   adapter: natural-images
///   root: datasets/natural_images
///   split: {train: 0.6, val: 0.2, test: 0.2, seed: 0}   # or {preset: mini}
/// metric: accuracy
/// grid:                      # or a list of grids, each expanded in turn
///   backbone: [small_cnn, efficientnet_lite0]
///   strategy: [scratch, features, finetune]
///   lr: [0.001, 0.0003]
/// random: {n: 4, dropout: {uniform: [0.1, 0.5]}, lr: {log_uniform: [0.0001, 0.01]}}
/// fixed: {epochs: 10, batch_size: 32, image_size: 224, augment: standard}
/// budget: {max_runs: 40, max_minutes: 120}
/// prune: {grace: 2}
/// cv: {folds: 5, seed: 0, group_column: patient}   # optional k-fold cross-validation
/// ```
/// Every key is checked: an unknown or misspelt key is an error naming it and its line.
public struct SweepSpec: Sendable {
  public struct DatasetSection: Sendable {
    public var adapter: DatasetAdapter
    public var root: String
    /// The dataset's name in leaderboards; nil uses the root folder's name.
    public var name: String?
    public var options: [String: String]
    /// A preset name of the dataset, or explicit fractions.
    public var split: SplitChoice
    public var seed: UInt64
  }

  public enum Distribution: Equatable, Sendable {
    case uniform(Double, Double)
    case logUniform(Double, Double)
    case choice([ParameterValue])
  }

  public var name: String
  public var dataset: DatasetSection
  public var metric: MetricName = .accuracy
  /// One grid, or several whose runs are concatenated (a YAML list of grids, as
  /// scikit-learn's `ParameterGrid` takes a list of dicts), e.g. scratch for one backbone and
  /// pretrained strategies for another.
  public var grids: [[(Hyperparameter, [ParameterValue])]] = [[]]
  public var randomDraws = 0
  public var random: [(Hyperparameter, Distribution)] = []
  public var fixed: [(Hyperparameter, ParameterValue)] = []
  public var maxRuns: Int?
  public var maxMinutes: Double?
  /// Epochs before the median pruning rule applies (nil: no pruning).
  public var pruneGrace: Int?
  /// k-fold cross-validation: every configuration becomes one run per fold (nil: one run
  /// on the split).
  public var crossValidation: CrossValidation?

  /// Parses and validates a spec.
  ///
  /// - Throws: ``SpecError`` naming `file`, the line and the key at fault.
  public static func parse(_ yaml: String, file: String) throws -> SweepSpec {
    guard yaml.utf8.count <= SpecNesting.maxBytes else {
      throw SpecError(file: file, line: nil, "is \(yaml.utf8.count) bytes; a spec may have at most \(SpecNesting.maxBytes)")
    }
    if let line = SpecNesting.lineTooDeep(yaml) {
      throw SpecError(file: file, line: line, "nests more than \(SpecNesting.maxDepth) levels deep")
    }
    let root: Node
    do {
      guard let composed = try Yams.compose(yaml: yaml) else { throw SpecError(file: file, line: nil, "empty spec") }
      root = composed
    } catch let error as SpecError { throw error } catch let error as YamlError {
      throw SpecError(file: file, line: nil, "not valid YAML: \(error)")
    }
    return try SpecReader(file: file).spec(root)
  }

  /// The runs the spec plans, in order (grid, then random draws, each with the fixed values;
  /// under cross-validation each configuration's fold runs one after another), and one line
  /// per dropped combination that cannot run. The budget's `max_runs` caps the
  /// configurations, so no configuration is cut short of a fold.
  public func expand() throws -> (runs: [RunSpec], dropped: [String]) {
    try checkPlannedCount()
    var combinations: [[(Hyperparameter, ParameterValue)]] = []
    for grid in grids {
      var product: [[(Hyperparameter, ParameterValue)]] = [[]]
      for (key, values) in grid {
        product = product.flatMap { prefix in values.map { prefix + [(key, $0)] } }
      }
      combinations += product
    }
    if randomDraws > 0 {
      var rng = SeededGenerator(seed: dataset.seed).derived(name)
      let draws = (0..<randomDraws).map { _ in random.map { key, distribution in (key, Self.draw(distribution, &rng)) } }
      combinations = combinations.flatMap { prefix in draws.map { prefix + $0 } }
    }
    var runs: [RunSpec] = [], dropped: [String] = []
    for combination in combinations {
      var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
      spec.training.metric = metric
      for (key, value) in fixed + combination { try key.apply(value, to: &spec) }
      if let reason = spec.cannotRunBecause {
        dropped.append("\(spec.backbone.rawValue) × \(spec.strategy.rawValue) (\(reason))")
      } else if let folds = crossValidation?.folds {
        runs += (0..<folds).map { fold in
          var run = spec
          run.fold = fold
          return run
        }
      } else {
        runs.append(spec)
      }
    }
    if let maxRuns { runs = Array(runs.prefix(maxRuns * (crossValidation?.folds ?? 1))) }
    return (runs, Array(Set(dropped)).sorted())
  }

  /// The most runs a spec may plan: far beyond any sweep a machine or cluster finishes, and
  /// small enough that planning one cannot exhaust memory (a grid of ten keys with a hundred
  /// values each would plan 10²⁰).
  public static let maxPlannedRuns = 100_000

  /// Refuses a spec whose grids and draws multiply past ``maxPlannedRuns`` before any
  /// combination is built.
  private func checkPlannedCount() throws {
    var total = 0
    for grid in grids {
      var product = 1
      for (_, values) in grid {
        let (next, overflow) = product.multipliedReportingOverflow(by: values.count)
        product = overflow ? Int.max : next
      }
      let (sum, overflow) = total.addingReportingOverflow(product)
      total = overflow ? Int.max : sum
    }
    let (withDraws, overflow) = total.multipliedReportingOverflow(by: max(randomDraws, 1))
    let (withFolds, foldOverflow) = withDraws.multipliedReportingOverflow(by: crossValidation?.folds ?? 1)
    let planned = overflow || foldOverflow ? Int.max : withFolds
    guard planned <= Self.maxPlannedRuns else {
      throw SpecError(file: "sweep \(name)", line: nil, "the grid and random draws plan \(planned == Int.max ? "more than 2⁶³" : String(planned)) runs, "
        + "more than the \(Self.maxPlannedRuns) a sweep may hold; split it into several sweeps")
    }
  }

  private static func draw(_ distribution: Distribution, _ rng: inout SeededGenerator) -> ParameterValue {
    switch distribution {
    case let .uniform(low, high): return .number(low + (high - low) * Double(rng.nextUniform()))
    case let .logUniform(low, high): return .number(exp(log(low) + (log(high) - log(low)) * Double(rng.nextUniform())))
    case .choice(let values): return values[Int(rng.next() % UInt64(values.count))]
    }
  }
}

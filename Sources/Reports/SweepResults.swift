import Foundation
import ResultsStore
import Sweeps
import Training

/// Everything a sweep's report shows, read from the store once.
public struct SweepResults {
  public var sweep: StoredSweep
  /// The dataset and split (nil for a sweep stored before Podium kept them).
  public var dataset: DatasetRecord?
  /// Every run, in plan order.
  public var runs: [StoredRun]
  public var epochs: [Int64: [EpochRecord]]
  /// Finished runs, best first by the sweep's metric on validation.
  public var ranked: [StoredRun]
  /// The finished runs' predictions of the labelled test split, by run (empty without one).
  public var testPredictions: [Int64: [PredictionRecord]] = [:]
  /// Under cross-validation, the configurations whose folds have all finished, best CV
  /// score first, each with its fold models' mean test predictions; empty without.
  public var crossValidated: [(model: SweepModel, test: [PredictionRecord])] = []

  /// Reads the sweep with id `sweep`.
  ///
  /// - Throws: ``ReportError`` when there is no such sweep.
  public static func load(from store: ResultsStore, sweep id: Int64) throws -> SweepResults {
    guard let sweep = try store.sweep(id: id) else {
      let known = try store.sweeps().map { "\($0.id) (\($0.name))" }.joined(separator: ", ")
      throw ReportError("no sweep with id \(id); the database has \(known.isEmpty ? "none" : known)")
    }
    let runs = try store.runs(sweep: id)
    var epochs: [Int64: [EpochRecord]] = [:]
    for run in runs { epochs[run.id] = try store.epochRecords(run: run.id) }
    var results = SweepResults(sweep: sweep, dataset: try store.dataset(ofSweep: id), runs: runs, epochs: epochs,
                               ranked: RunRanking.ranked(runs, by: sweep.metric))
    for run in results.ranked { results.testPredictions[run.id] = try store.predictions(run: run.id, subset: .test) }
    if results.dataset?.crossValidation != nil {
      results.crossValidated = try SweepModel.ranked(sweep: id, in: store, metric: sweep.metric).filter(\.isCrossValidated)
        .map { ($0, try $0.predictions(.test, in: store)) }
    }
    return results
  }

  /// The best finished run.
  public var best: StoredRun? { ranked.first }

  /// The class names (placeholders when the dataset was not stored).
  public func classNames(count: Int) -> [String] {
    if let names = dataset?.classNames, names.count == count { return names }
    return (0..<count).map { "class \($0)" }
  }
}

/// The hyperparameters worth a column in leaderboards: the ones sweeps usually vary, read
/// through the hyperparameter table.
enum KeyHyperparameters {
  static let keys: [Hyperparameter] = [.lr, .epochs, .batchSize, .optimizer, .augment, .imageSize, .head, .unfreeze]
  static let names = keys.map(\.rawValue)

  static func values(_ spec: RunSpec?) -> [String] {
    guard let spec else { return keys.map { _ in "" } }
    return keys.map { key in
      switch key {
      case .imageSize: return key.value(in: spec)?.description ?? "default"
      case .head: return spec.hidden.map { "mlp \($0)" } ?? key.value(in: spec)?.description ?? ""
      case .unfreeze: return spec.strategy == .finetune ? key.value(in: spec)?.description ?? "" : ""
      default: return key.value(in: spec)?.description ?? ""
      }
    }
  }
}

import Datasets
import Foundation
import Engine
import ResultsStore
import Sweeps

/// How a submission file writes each prediction.
public enum SubmissionFormat: String, CaseIterable, Sendable {
  /// The competition's own format: dogs-vs-cats `probability`, flickr8 `numbers`, others `labels`.
  case auto
  /// `id,label` with the predicted class name.
  case labels
  /// `id,label` with the predicted class as a number from 1 (Flickr's 1–8).
  case numbers
  /// `id,label` with the probability of the second class (Dogs vs Cats Redux: P(dog)).
  case probability
  /// `id,label` with the predicted class index, 0 or 1 (the original Dogs vs Cats: 1 = dog).
  case binary
  /// `id` and one probability column per class (Kaggle's multi-class log-loss format).
  case columns

  /// The format a competition on `adapter` expects.
  public static func competitionDefault(adapter: String) -> SubmissionFormat {
    switch adapter {
    case "dogs-vs-cats": return .probability
    case "flickr8": return .numbers
    default: return .labels
    }
  }
}

/// A Kaggle submission: one row per test image, sorted by id (numerically when every id is a
/// number), written atomically with correct CSV quoting.
public struct Submission: Equatable, Sendable {
  public var header: [String]
  public var rows: [[String]]

  /// Builds the submission of `predictions` (`id` → class probabilities).
  ///
  /// - Throws: ``ReportError`` when there is nothing to submit or the format does not fit
  ///   the number of classes.
  /// With `top`, each row's label is the `top` most likely class names, space-separated, best
  /// first (Kaggle's MAP@K format; `labels` only).
  public init(predictions: [(id: String, probabilities: [Float])], classNames: [String], format: SubmissionFormat, top: Int? = nil) throws {
    guard !predictions.isEmpty else {
      throw ReportError("no predictions for unlabelled test images: the dataset needs a test folder (e.g. test1/ for dogs-vs-cats)")
    }
    try Self.check(format, top: top, classNames: classNames)
    header = format == .columns ? ["id"] + classNames : ["id", "label"]
    rows = Self.sortedByID(predictions).map { id, probabilities in
      [id] + Self.cells(probabilities, format: format, classNames: classNames, positive: 1, columns: Array(classNames.indices), top: top)
    }
  }

  /// One row's cells after the id: the probability of each class in `columns` (`columns`),
  /// of class `positive` (`probability`), 1 when `positive` is the most likely class
  /// (`binary`), the most likely class counted from 1 (`numbers`), or the `top` most likely
  /// class names (`labels`).
  static func cells(_ probabilities: [Float], format: SubmissionFormat, classNames: [String], positive: Int, columns: [Int], top: Int?)
    -> [String]
  {
    let top1 = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
    switch format {
    case .columns: return columns.map { String(format: "%.6f", probabilities[$0]) }
    case .probability: return [String(format: "%.6f", probabilities[positive])]
    case .binary: return [top1 == positive ? "1" : "0"]
    case .numbers: return [String(top1 + 1)]
    case .labels, .auto: return [labels(probabilities, classNames: classNames, top: top ?? 1)]
    }
  }

  /// Refuses a format that does not fit the classes, or `top` with anything but labels.
  static func check(_ format: SubmissionFormat, top: Int?, classNames: [String]) throws {
    if (format == .probability || format == .binary) && classNames.count != 2 {
      throw ReportError("--format \(format.rawValue) needs 2 classes; this dataset has \(classNames.count)")
    }
    guard let top else { return }
    guard top >= 1, format == .labels || format == .auto else { throw ReportError("--top K writes labels (K ≥ 1), not --format \(format.rawValue)") }
    if let spaced = classNames.first(where: { $0.contains(" ") }) {
      throw ReportError("--top needs class names without spaces (they separate the labels); \"\(spaced)\" has one")
    }
  }

  /// The `top` most likely class names, best first, space-separated.
  static func labels(_ probabilities: [Float], classNames: [String], top: Int) -> String {
    probabilities.indices.sorted { (probabilities[$0], $1) > (probabilities[$1], $0) }.prefix(top).map { classNames[$0] }
      .joined(separator: " ")
  }

  /// Ids in Kaggle's order: by value when all are integers, else lexicographically.
  static func sortedByID<T>(_ rows: [(id: String, probabilities: T)]) -> [(id: String, probabilities: T)] {
    let numeric = rows.allSatisfy { Int($0.id) != nil }
    return rows.sorted { numeric ? Int($0.id)! < Int($1.id)! : $0.id < $1.id }
  }

  /// The file's text.
  public func csv() -> String { CSVText.document(header: header, rows: rows) }

  /// Writes the file atomically.
  public func write(to url: URL) throws { try AtomicFile.write(csv(), to: url) }
}

/// The mean of several runs' predicted probabilities for the unlabelled images: a simple,
/// strong ensemble.
public enum Ensemble {
  /// The stored unlabelled predictions of `runs`, averaged per image.
  ///
  /// - Throws: ``ReportError`` naming a run without predictions or whose images differ.
  public static func mean(of runs: [Int64], in store: ResultsStore) throws -> [(id: String, probabilities: [Float])] {
    try weightedMean(of: runs.map { ($0, 1) }, in: store, subset: .unlabelled)
  }

  /// The stored predictions of `subset` of each run, averaged per image with the runs'
  /// weights (normalised to sum to 1), in the first run's image order. A run of a
  /// cross-validated configuration stands for the whole configuration: the mean of its fold
  /// models (``SweepModel``).
  ///
  /// - Throws: ``ReportError`` naming a run without predictions of `subset`, or whose images
  ///   or classes differ from the first run's.
  public static func weightedMean(of runs: [(run: Int64, weight: Double)], in store: ResultsStore, subset: Subset) throws
    -> [(id: String, probabilities: [Float])]
  {
    var rows: [[(id: String, probabilities: [Float])]] = []
    for (run, _) in runs {
      let folded = try store.run(id: run)?.spec?.fold != nil
      let predictions = try folded ? SweepModel.containing(run: run, in: store).predictions(subset, in: store)
        : store.predictions(run: run, subset: subset)
      guard !predictions.isEmpty else { throw ReportError("run \(run) stored no predictions for \(images(subset))") }
      guard rows.isEmpty || predictions.map(\.imageID) == rows[0].map(\.id) else {
        throw ReportError("run \(run) predicted a different set of \(images(subset)) than run \(runs[0].run): they cannot be ensembled")
      }
      guard rows.isEmpty || predictions.first?.probabilities.count == rows[0].first?.probabilities.count else {
        throw ReportError("run \(run) has a different number of classes than run \(runs[0].run)")
      }
      rows.append(predictions.map { ($0.imageID, $0.probabilities) })
    }
    return weightedMean(rows, weights: runs.map(\.weight))
  }

  /// Row by row, the mean of several runs' probabilities (each run's rows for the same
  /// images in the same order) with the runs' weights, normalised to sum to 1.
  static func weightedMean(_ rows: [[(id: String, probabilities: [Float])]], weights: [Double]) -> [(id: String, probabilities: [Float])] {
    let total = weights.reduce(0, +)
    return rows[0].indices.map { row in
      var sum = [Float](repeating: 0, count: rows[0][row].probabilities.count)
      for (run, weight) in zip(rows, weights) {
        let scale = Float(weight / total)
        for (index, p) in run[row].probabilities.enumerated() { sum[index] += scale * p }
      }
      return (rows[0][row].id, sum)
    }
  }

  /// What a subset's images are called in messages.
  private static func images(_ subset: Subset) -> String {
    switch subset {
    case .unlabelled: return "test images"
    case .test: return "labelled test images"
    default: return "\(subset.rawValue) images"
    }
  }
}

import Foundation

/// The metrics a sweep can optimise, with their direction.
public enum MetricName: String, CaseIterable, Sendable, Codable {
  case accuracy
  case meanClassAccuracy = "mean-class-accuracy"
  case macroF1 = "macro-f1"
  case logLoss = "logloss"

  /// True for metrics where larger is better (all but log loss).
  public var isMaximised: Bool { self != .logLoss }

  /// True when `a` is a better value than `b`.
  public func isBetter(_ a: Double, than b: Double) -> Bool { isMaximised ? a > b : a < b }
}

/// Classification metrics of predicted probabilities against true labels: accuracy, mean
/// per-class accuracy (mean recall, Caltech-256's protocol), macro-F1, log loss (with
/// Kaggle's clipping), per-class precision and recall, and the confusion matrix.
///
/// Definitions follow scikit-learn: a class that is never predicted has precision 0; mean
/// per-class accuracy averages the classes present in the labels (`balanced_accuracy_score`);
/// macro-F1 averages every class present in the labels or the predictions, so a class
/// predicted but never a label counts with F1 = 0 (`f1_score(average="macro")`).
public struct ClassificationMetrics: Equatable, Codable, Sendable {
  /// `confusion[true][predicted]` counts.
  public var confusion: [[Int]]
  public var accuracy: Double
  public var meanClassAccuracy: Double
  public var macroF1: Double
  public var logLoss: Double
  /// Per class; NaN-free: 0 where undefined.
  public var precision: [Double]
  public var recall: [Double]

  /// Computes every metric from `probabilities` (`count × classes`, rows summing to about
  /// 1) and `labels` (class indices).
  ///
  /// - Precondition: `probabilities.count == labels.count · classes`.
  public init(probabilities: [Float], labels: [Int], classes: Int) {
    precondition(probabilities.count == labels.count * classes, "\(probabilities.count) probabilities for \(labels.count) labels × \(classes) classes")
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    var loss = 0.0
    for (row, label) in labels.enumerated() {
      let scores = probabilities[(row * classes)..<((row + 1) * classes)]
      let predicted = scores.indices.max { scores[$0] < scores[$1] }! - row * classes
      confusion[label][predicted] += 1
      loss += Self.logLossTerm(scores: Array(scores), label: label)
    }
    self.init(confusion: confusion, logLoss: labels.isEmpty ? 0 : loss / Double(labels.count))
  }

  /// Computes every metric from a confusion matrix (`[true][predicted]`) and the mean log
  /// loss of the same images (a bootstrap resample builds these without the probabilities).
  public init(confusion: [[Int]], logLoss: Double) {
    let classes = confusion.count
    self.confusion = confusion
    let n = confusion.map { $0.reduce(0, +) }.reduce(0, +)
    accuracy = n == 0 ? 0 : Double((0..<classes).map { confusion[$0][$0] }.reduce(0, +)) / Double(n)
    self.logLoss = logLoss
    let support = confusion.map { $0.reduce(0, +) }
    let predictedCounts = (0..<classes).map { c in confusion.map { $0[c] }.reduce(0, +) }
    let recall = (0..<classes).map { support[$0] == 0 ? 0 : Double(confusion[$0][$0]) / Double(support[$0]) }
    let precision = (0..<classes).map { predictedCounts[$0] == 0 ? 0 : Double(confusion[$0][$0]) / Double(predictedCounts[$0]) }
    let labelled = (0..<classes).filter { support[$0] > 0 }
    let labelledOrPredicted = (0..<classes).filter { support[$0] > 0 || predictedCounts[$0] > 0 }
    let f1 = (0..<classes).map { c in precision[c] + recall[c] == 0 ? 0 : 2 * precision[c] * recall[c] / (precision[c] + recall[c]) }
    func mean(_ values: [Double], over classes: [Int]) -> Double {
      classes.isEmpty ? 0 : classes.map { values[$0] }.reduce(0, +) / Double(classes.count)
    }
    (self.recall, self.precision) = (recall, precision)
    meanClassAccuracy = mean(recall, over: labelled)
    macroF1 = mean(f1, over: labelledOrPredicted)
  }

  /// The value of `metric`.
  public func value(_ metric: MetricName) -> Double {
    switch metric {
    case .accuracy: return accuracy
    case .meanClassAccuracy: return meanClassAccuracy
    case .macroF1: return macroF1
    case .logLoss: return logLoss
    }
  }

  /// Kaggle's multi-class log loss of one row: probabilities clipped to
  /// `[1e-15, 1 − 1e-15]`, the row renormalised, then `−log p[label]`.
  /// Reference: kaggle.com/wiki/MultiClassLogLoss.
  public static func logLossTerm(scores: [Float], label: Int) -> Double {
    let clipped = scores.map { min(max(Double($0), 1e-15), 1 - 1e-15) }
    return -log(clipped[label] / clipped.reduce(0, +))
  }

  /// The class pairs most often confused, `(true, predicted, count)`, largest first.
  public func mostConfused(limit: Int = 10) -> [(actual: Int, predicted: Int, count: Int)] {
    Self.mostConfused(in: confusion, limit: limit)
  }

  /// The off-diagonal cells of a confusion matrix (`matrix[true][predicted]`) with a count,
  /// largest first; ties in class order.
  public static func mostConfused(in matrix: [[Int]], limit: Int = 10) -> [(actual: Int, predicted: Int, count: Int)] {
    var pairs: [(Int, Int, Int)] = []
    for (actual, row) in matrix.enumerated() {
      for (predicted, count) in row.enumerated() where actual != predicted && count > 0 { pairs.append((actual, predicted, count)) }
    }
    return Array(pairs.sorted { ($0.2, -$0.0, -$0.1) > ($1.2, -$1.0, -$1.1) }.prefix(limit)).map { (actual: $0.0, predicted: $0.1, count: $0.2) }
  }
}

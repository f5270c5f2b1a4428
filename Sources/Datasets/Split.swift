import Engine
import Foundation

/// How labelled images are divided into train, validation and test sets, class by class.
public enum SplitSpec: Equatable, Sendable, Codable {
  /// Fractions of each class (they must sum to at most 1; the rest is unused).
  case fractions(train: Double, validation: Double, test: Double)
  /// A number of images per class for training and validation; `test` per class, or all
  /// the rest when nil.
  case perClass(train: Int, validation: Int, test: Int?)

  /// Checks the numbers; the message names the offending one.
  public func validate() throws {
    switch self {
    case let .fractions(train, validation, test):
      guard [train, validation, test].allSatisfy({ $0 >= 0 }), train > 0, train + validation + test <= 1 + 1e-9 else {
        throw DatasetError(path: "split", reason: "fractions must be ≥ 0, train > 0 and sum to at most 1 (got \(train), \(validation), \(test))")
      }
    case let .perClass(train, validation, test):
      guard train > 0, validation >= 0, (test ?? 0) >= 0 else {
        throw DatasetError(path: "split", reason: "per-class counts must be positive (got \(train), \(validation), \(test.map(String.init) ?? "rest"))")
      }
    }
  }
}

/// Which labelled images went where: indices into ``Dataset/samples``, stratified by class
/// and decided by a seed, so the same dataset, spec and seed give the same split on any
/// machine. The split is stored with every run (``assignments``) so a run can be
/// reproduced exactly even if files are later added.
public struct Split: Equatable, Sendable, Codable {
  public var train: [Int]
  public var validation: [Int]
  public var test: [Int]
  public var seed: UInt64

  /// Splits `dataset`'s labelled images per class: each class's images are shuffled with a
  /// generator derived from `seed` and the class name, then cut by `spec`.
  ///
  /// - Throws: ``DatasetError`` when a class has too few images for a per-class spec.
  public init(_ dataset: Dataset, spec: SplitSpec, seed: UInt64) throws {
    try spec.validate()
    (train, validation, test, self.seed) = ([], [], [], seed)
    var byClass = [[Int]](repeating: [], count: dataset.classNames.count)
    for (index, sample) in dataset.samples.enumerated() { if let label = sample.label { byClass[label].append(index) } }
    let base = SeededGenerator(seed: seed)
    for (label, indices) in byClass.enumerated() {
      var rng = base.derived(dataset.classNames[label])
      let shuffled = indices.shuffled(using: &rng)
      let (trainCount, validationCount, testCount) = try counts(spec, available: shuffled.count, className: dataset.classNames[label])
      train += shuffled.prefix(trainCount)
      validation += shuffled.dropFirst(trainCount).prefix(validationCount)
      test += shuffled.dropFirst(trainCount + validationCount).prefix(testCount)
    }
    (train, validation, test) = (train.sorted(), validation.sorted(), test.sorted())
  }

  private func counts(_ spec: SplitSpec, available n: Int, className: String) throws -> (Int, Int, Int) {
    switch spec {
    case let .fractions(train, validation, test):
      let t = Int((Double(n) * train).rounded()), v = Int((Double(n) * validation).rounded())
      return (min(t, n), min(v, n - min(t, n)), min(Int((Double(n) * test).rounded()), max(0, n - t - v)))
    case let .perClass(train, validation, test):
      guard n >= train + validation + (test ?? 0) else {
        throw DatasetError(path: className, reason: "class has \(n) images; the split needs \(train + validation + (test ?? 0))")
      }
      return (train, validation, test ?? n - train - validation)
    }
  }

  /// `(path, subset, label)` for every assigned image, sorted by path: what gets stored.
  public func assignments(in dataset: Dataset) -> [(path: String, subset: Subset, label: Int)] {
    let subsets: [(Subset, [Int])] = [(.train, train), (.validation, validation), (.test, test)]
    return subsets.flatMap { subset, indices in indices.map { (dataset.samples[$0].path, subset, dataset.samples[$0].label ?? 0) } }
      .sorted { $0.path < $1.path }
  }
}

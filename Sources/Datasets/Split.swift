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
  /// With cross-validation: the images of each fold (indices into ``Dataset/samples``),
  /// which together are every labelled image outside the test split; empty without.
  public var folds: [[Int]] = []
  /// The fold this split holds out as its validation set (``holdingOut(fold:)``); nil for
  /// the split as a whole.
  public var fold: Int?

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

  /// The split cut by `spec` and `seed`, with every image outside its test split dealt into
  /// `crossValidation`'s folds (``CrossValidation/assign(_:in:)``); `train` then holds the
  /// whole pool and `validation` is empty until a fold is held out.
  ///
  /// - Throws: ``DatasetError`` for a spec a class cannot fill, or folds that cannot be made.
  public init(_ dataset: Dataset, spec: SplitSpec, seed: UInt64, crossValidation: CrossValidation?) throws {
    try self.init(dataset, spec: spec, seed: seed)
    guard let crossValidation else { return }
    let pool = (train + validation).sorted()
    let assigned = try crossValidation.assign(pool, in: dataset)
    folds = [[Int]](repeating: [], count: crossValidation.folds)
    for (index, fold) in zip(pool, assigned) { folds[fold].append(index) }
    (train, validation) = (pool, [])
  }

  /// Fold `fold` held out: trained on every other fold, validated (and so predicted out of
  /// fold) on this one; the test split stays as it is.
  ///
  /// - Throws: ``DatasetError`` when the split has no such fold.
  public func holdingOut(fold: Int) throws -> Split {
    guard folds.indices.contains(fold) else {
      throw DatasetError(path: "fold \(fold)", reason: folds.isEmpty ? "the split has no cross-validation folds" : "the split has folds 0–\(folds.count - 1)")
    }
    var split = self
    split.validation = folds[fold]
    split.train = folds.enumerated().filter { $0.offset != fold }.flatMap(\.element).sorted()
    split.fold = fold
    return split
  }

  /// The images the folds divide (train and validation together), sorted; nil without folds.
  public var crossValidationPool: [Int]? {
    folds.isEmpty ? nil : folds.flatMap { $0 }.sorted()
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

  /// `(path, subset, label, fold)` for every assigned image, sorted by path: what gets
  /// stored (`fold` only with cross-validation).
  public func assignments(in dataset: Dataset) -> [Assignment] {
    var foldOf: [Int: Int] = [:]
    for (fold, indices) in folds.enumerated() { for index in indices { foldOf[index] = fold } }
    let subsets: [(Subset, [Int])] = [(.train, train), (.validation, validation), (.test, test)]
    return subsets.flatMap { subset, indices in
      indices.map { Assignment(path: dataset.samples[$0].path, subset: subset, label: dataset.samples[$0].label ?? 0, fold: foldOf[$0]) }
    }.sorted { $0.path < $1.path }
  }
}

/// Where the split put one labelled image.
public struct Assignment: Equatable, Sendable {
  public var path: String
  public var subset: Subset
  public var label: Int
  /// Its cross-validation fold; nil without cross-validation.
  public var fold: Int?

  public init(path: String, subset: Subset, label: Int, fold: Int? = nil) {
    (self.path, self.subset, self.label, self.fold) = (path, subset, label, fold)
  }
}

import Engine
import Foundation

/// k-fold cross-validation as a sweep spec's `cv:` and `podium train --folds` ask for it:
/// every labelled image outside the test split (the *pool*) goes to one of `folds` folds,
/// stratified by class, and — with a group column — grouped, so all images of one group
/// (one patient, one camera, one session) sit in the same fold and never on both sides.
public struct CrossValidation: Equatable, Sendable, Codable {
  public var folds: Int
  public var seed: UInt64
  /// The CSV column that names each image's group; nil for plain stratified folds.
  public var groupColumn: String?

  public init(folds: Int, seed: UInt64 = 0, groupColumn: String? = nil) {
    (self.folds, self.seed, self.groupColumn) = (folds, seed, groupColumn)
  }

  enum CodingKeys: String, CodingKey {
    case folds, seed, groupColumn = "group_column"
  }

  /// The most folds a split may have: leave-one-out on a thousand images is not what k-fold is for.
  public static let maxFolds = 100

  /// Checks the fold count.
  public func validate() throws {
    guard (2...Self.maxFolds).contains(folds) else {
      throw DatasetError(path: "cv folds", reason: "must be between 2 and \(Self.maxFolds), got \(folds)")
    }
  }

  /// The fold of each of `pool` (indices into `dataset.samples`), in the pool's order.
  ///
  /// Stratified: each class's images are shuffled with a generator derived from `seed` and
  /// the class name, and dealt round the folds, continuing where the previous class stopped,
  /// so fold sizes differ by at most one image and every class is spread evenly.
  ///
  /// Grouped: groups are shuffled with `seed`, taken largest first, and each goes to the fold
  /// where it brings the per-class counts closest to an even share (the least squared
  /// excess over `count of class / folds`), ties to the smaller fold — the greedy rule of
  /// scikit-learn's `StratifiedGroupKFold`, with squared excess as its measure of balance.
  ///
  /// - Throws: ``DatasetError`` when there are fewer images (or groups) than folds, or an
  ///   image has no group.
  public func assign(_ pool: [Int], in dataset: Dataset) throws -> [Int] {
    try validate()
    guard pool.count >= folds else {
      throw DatasetError(path: "cv folds", reason: "\(folds) folds need at least \(folds) images outside the test split; there are \(pool.count)")
    }
    return groupColumn == nil ? stratified(pool, in: dataset) : try grouped(pool, in: dataset)
  }

  private func stratified(_ pool: [Int], in dataset: Dataset) -> [Int] {
    var byClass = [[Int]](repeating: [], count: dataset.classNames.count)
    for (position, index) in pool.enumerated() { byClass[dataset.samples[index].label ?? 0].append(position) }
    let base = SeededGenerator(seed: seed)
    var fold = [Int](repeating: 0, count: pool.count), next = 0
    for (label, positions) in byClass.enumerated() {
      var rng = base.derived("fold " + dataset.classNames[label])
      for position in positions.shuffled(using: &rng) {
        fold[position] = next
        next = (next + 1) % folds
      }
    }
    return fold
  }

  private func grouped(_ pool: [Int], in dataset: Dataset) throws -> [Int] {
    var members: [String: [Int]] = [:]
    for (position, index) in pool.enumerated() {
      guard let group = dataset.samples[index].group else {
        throw DatasetError(path: dataset.samples[index].path, reason: "has no value in the group column \(groupColumn!)")
      }
      members[group, default: []].append(position)
    }
    guard members.count >= folds else {
      throw DatasetError(path: "cv group_column \(groupColumn!)", reason: "\(folds) folds need at least \(folds) groups; there are \(members.count)")
    }
    var rng = SeededGenerator(seed: seed).derived("groups")
    let order = members.keys.sorted().shuffled(using: &rng).enumerated()
      .sorted { (members[$0.element]!.count, -$0.offset) > (members[$1.element]!.count, -$1.offset) }.map(\.element)
    let classes = dataset.classNames.count
    var classTotals = [Double](repeating: 0, count: classes)
    for index in pool { classTotals[dataset.samples[index].label ?? 0] += 1 }
    let share = classTotals.map { $0 / Double(folds) }
    var counts = [[Double]](repeating: [Double](repeating: 0, count: classes), count: folds), sizes = [Int](repeating: 0, count: folds)
    var fold = [Int](repeating: 0, count: pool.count)
    for group in order {
      var added = [Int: Double]()
      for position in members[group]! { added[dataset.samples[pool[position]].label ?? 0, default: 0] += 1 }
      let cost = { (f: Int) in
        added.reduce(0.0) { sum, entry in
          let (before, after) = (counts[f][entry.key] - share[entry.key], counts[f][entry.key] + entry.value - share[entry.key])
          return sum + max(after, 0) * max(after, 0) - max(before, 0) * max(before, 0)
        }
      }
      let chosen = (0..<folds).min { (cost($0), sizes[$0], $0) < (cost($1), sizes[$1], $1) }!
      for (label, count) in added { counts[chosen][label] += count }
      sizes[chosen] += members[group]!.count
      for position in members[group]! { fold[position] = chosen }
    }
    return fold
  }
}

import Datasets
import Foundation
import XCTest

final class CrossValidationTests: XCTestCase {
  /// `counts[c]` images of class `c`; image `i` of a class belongs to group `g<i / groupSize>`
  /// of that class when `groupSize` is given.
  private func dataset(_ counts: [Int], groupSize: Int? = nil) -> Dataset {
    var samples: [Dataset.Sample] = []
    for (label, count) in counts.enumerated() {
      samples += (0..<count).map { index in
        Dataset.Sample(path: "c\(label)/\(String(format: "%04d", index)).jpg", label: label,
                       group: groupSize.map { "c\(label)-g\(index / $0)" })
      }
    }
    return Dataset(adapter: "csv", root: URL(fileURLWithPath: "/data"), classNames: counts.indices.map { "c\($0)" },
                   samples: samples, unlabelled: [], skipped: [], presets: [:])
  }

  private func perClass(_ indices: [Int], _ data: Dataset) -> [Int] {
    (0..<data.classNames.count).map { c in indices.filter { data.samples[$0].label == c }.count }
  }

  /// Every image outside the test split lands in exactly one fold; folds differ in size by
  /// at most one image and, class by class, by at most one image of the class.
  func testStratifiedFolds_partitionThePool_evenlyPerClass() throws {
    let data = dataset([53, 21, 7])
    let split = try Split(data, spec: .fractions(train: 0.8, validation: 0, test: 0.2), seed: 0, crossValidation: CrossValidation(folds: 5))
    let pool = split.folds.flatMap { $0 }
    XCTAssertEqual(pool.count, Set(pool).count, "no image in two folds")
    XCTAssertEqual(Set(pool), Set(data.samples.indices).subtracting(split.test))
    XCTAssertEqual(split.train.sorted(), pool.sorted())
    XCTAssertTrue(split.validation.isEmpty)
    let sizes = split.folds.map(\.count)
    XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "\(sizes)")
    for c in 0..<3 {
      let counts = split.folds.map { perClass($0, data)[c] }
      XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1, "class \(c): \(counts)")
    }
  }

  /// Holding out fold k trains on every other fold and validates on fold k; the test split stays.
  func testHoldingOutAFold_trainsOnTheOthers() throws {
    let data = dataset([30, 30])
    let split = try Split(data, spec: .fractions(train: 0.9, validation: 0, test: 0.1), seed: 4, crossValidation: CrossValidation(folds: 3))
    var validated: [Int] = []
    for fold in 0..<3 {
      let held = try split.holdingOut(fold: fold)
      XCTAssertEqual(held.validation, split.folds[fold])
      XCTAssertTrue(Set(held.train).isDisjoint(with: held.validation))
      XCTAssertEqual(Set(held.train + held.validation), Set(split.train))
      XCTAssertEqual(held.test, split.test)
      validated += held.validation
    }
    XCTAssertEqual(validated.sorted(), split.train.sorted(), "each pool image validated (predicted out of fold) exactly once")
    XCTAssertThrowsError(try split.holdingOut(fold: 3)) { XCTAssertEqual("\($0)", "fold 3: the split has folds 0–2") }
    XCTAssertThrowsError(try Split(data, spec: .fractions(train: 0.9, validation: 0, test: 0.1), seed: 4).holdingOut(fold: 0))
  }

  func testFolds_dependOnTheSeedAlone() throws {
    let data = dataset([40, 40])
    let make = { (seed: UInt64) in
      try Split(data, spec: .fractions(train: 1, validation: 0, test: 0), seed: 0, crossValidation: CrossValidation(folds: 4, seed: seed)).folds
    }
    XCTAssertEqual(try make(1), try make(1))
    XCTAssertNotEqual(try make(1), try make(2))
  }

  /// With a group column no group has images on both sides of any fold, and the folds stay
  /// close in size and class balance.
  func testGroupedFolds_keepEachGroupInOneFold() throws {
    let data = dataset([60, 30], groupSize: 3)
    let cv = CrossValidation(folds: 5, seed: 0, groupColumn: "patient")
    let split = try Split(data, spec: .fractions(train: 1, validation: 0, test: 0), seed: 0, crossValidation: cv)
    var foldOfGroup: [String: Int] = [:]
    for (fold, indices) in split.folds.enumerated() {
      for index in indices {
        let group = data.samples[index].group!
        XCTAssertEqual(foldOfGroup[group] ?? fold, fold, "group \(group) in folds \(foldOfGroup[group]!) and \(fold)")
        foldOfGroup[group] = fold
      }
    }
    XCTAssertEqual(split.folds.map { perClass($0, data) }, [[12, 6], [12, 6], [12, 6], [12, 6], [12, 6]],
                   "20 groups of c0 and 10 of c1 dealt evenly")
  }

  func testGroupedFolds_refuseTooFewGroups_andImagesWithoutAGroup() {
    let cv = CrossValidation(folds: 5, groupColumn: "patient")
    XCTAssertThrowsError(try Split(dataset([6, 6], groupSize: 4), spec: .fractions(train: 1, validation: 0, test: 0), seed: 0, crossValidation: cv)) {
      XCTAssertEqual("\($0)", "cv group_column patient: 5 folds need at least 5 groups; there are 4")
    }
    XCTAssertThrowsError(try Split(dataset([6, 6]), spec: .fractions(train: 1, validation: 0, test: 0), seed: 0, crossValidation: cv)) {
      XCTAssertEqual("\($0)", "c0/0000.jpg: has no value in the group column patient")
    }
    XCTAssertThrowsError(try Split(dataset([2]), spec: .fractions(train: 1, validation: 0, test: 0), seed: 0, crossValidation: CrossValidation(folds: 3))) {
      XCTAssertEqual("\($0)", "cv folds: 3 folds need at least 3 images outside the test split; there are 2")
    }
    XCTAssertThrowsError(try CrossValidation(folds: 1).validate()) { XCTAssertEqual("\($0)", "cv folds: must be between 2 and 100, got 1") }
  }

  /// The stored assignments carry each pool image's fold.
  func testAssignments_carryTheFold() throws {
    let data = dataset([10, 10])
    let split = try Split(data, spec: .fractions(train: 0.8, validation: 0, test: 0.2), seed: 0, crossValidation: CrossValidation(folds: 2))
    let assignments = split.assignments(in: data)
    XCTAssertEqual(assignments.filter { $0.subset == .test }.map(\.fold), [nil, nil, nil, nil])
    XCTAssertEqual(assignments.filter { $0.fold == 0 }.count, split.folds[0].count)
    XCTAssertEqual(assignments.filter { $0.fold == 1 }.count, split.folds[1].count)
  }
}

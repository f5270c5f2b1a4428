import DatasetTestSupport
import Datasets
import Foundation
import XCTest

final class SplitTests: XCTestCase {
  /// A synthetic dataset: `counts[c]` images of class `c`.
  private func dataset(_ counts: [Int]) -> Dataset {
    var samples: [Dataset.Sample] = []
    for (label, count) in counts.enumerated() {
      samples += (0..<count).map { Dataset.Sample(path: "c\(label)/\(String(format: "%04d", $0)).jpg", label: label) }
    }
    return Dataset(adapter: "image-folder", root: URL(fileURLWithPath: "/data"), classNames: counts.indices.map { "c\($0)" },
                   samples: samples, unlabelled: [], skipped: [], presets: [:])
  }

  func testFractions_areStratifiedPerClass() throws {
    let data = dataset([100, 50, 10])
    let split = try Split(data, spec: .fractions(train: 0.6, validation: 0.2, test: 0.2), seed: 3)
    func perClass(_ indices: [Int]) -> [Int] {
      (0..<3).map { c in indices.filter { data.samples[$0].label == c }.count }
    }
    XCTAssertEqual(perClass(split.train), [60, 30, 6])
    XCTAssertEqual(perClass(split.validation), [20, 10, 2])
    XCTAssertEqual(perClass(split.test), [20, 10, 2])
    XCTAssertTrue(Set(split.train).isDisjoint(with: split.validation + split.test))
  }

  func testSameSeedSameSplit_otherSeedOtherSplit() throws {
    let data = dataset([40, 40])
    let spec = SplitSpec.perClass(train: 10, validation: 5, test: nil)
    XCTAssertEqual(try Split(data, spec: spec, seed: 1), try Split(data, spec: spec, seed: 1))
    XCTAssertNotEqual(try Split(data, spec: spec, seed: 1).train, try Split(data, spec: spec, seed: 2).train)
    let split = try Split(data, spec: spec, seed: 1)
    XCTAssertEqual(split.test.count, 50, "the rest of each class")
    XCTAssertEqual(split.assignments(in: data).count, 80)
  }

  func testPerClass_tooFewImages_namesTheClass() {
    XCTAssertThrowsError(try Split(dataset([40, 12]), spec: .perClass(train: 10, validation: 5, test: nil), seed: 1)) {
      XCTAssertEqual("\($0)", "c1: class has 12 images; the split needs 15")
    }
    XCTAssertThrowsError(try Split(dataset([4]), spec: .fractions(train: 0.8, validation: 0.3, test: 0), seed: 1))
  }

  func testSplitsStoreAndReloadAsJSON() throws {
    let split = try Split(dataset([20, 20]), spec: .fractions(train: 0.5, validation: 0.25, test: 0.25), seed: 9)
    let decoded = try JSONDecoder().decode(Split.self, from: JSONEncoder().encode(split))
    XCTAssertEqual(decoded, split)
  }
}

import Datasets
import Foundation
@testable import Reports
import Sweeps
import Training
import XCTest

/// Bootstrap intervals of test metrics, and the paired comparison the report words.
final class TestBootstrapTests: XCTestCase {
  /// `count` test images of 3 classes; the first `right` are predicted correctly (0.7), the
  /// rest as the next class.
  private func records(_ count: Int, right: Int) -> [PredictionRecord] {
    (0..<count).map { index in
      let label = index % 3, predicted = index < right ? label : (label + 1) % 3
      var probabilities: [Float] = [0.15, 0.15, 0.15]
      probabilities[predicted] = 0.7
      return PredictionRecord(subset: .test, imageID: String(format: "%04d", index), path: "t/\(index).png", label: label,
                              probabilities: probabilities)
    }
  }

  func testTheInterval_holdsTheFullSampleValue_andIsSeeded() throws {
    let test = records(160, right: 120)
    for metric in MetricName.allCases {
      let interval = try XCTUnwrap(TestBootstrap.interval(test, metric: metric))
      let full = ClassificationMetrics(probabilities: test.flatMap(\.probabilities), labels: test.map { $0.label! }, classes: 3).value(metric)
      XCTAssertEqual(interval.estimate, full, accuracy: 1e-12, metric.rawValue)
      XCTAssertTrue(interval.low <= full && full <= interval.high, "\(metric.rawValue): \(interval)")
      XCTAssertLessThan(interval.low, interval.high, metric.rawValue)
      XCTAssertEqual(TestBootstrap.interval(test, metric: metric), interval, "same seed, same interval")
    }
    // Accuracy 0.75 on 160 images: the binomial standard error is 0.034, so the 95% interval
    // is about ±0.067 wide on each side.
    let accuracy = try XCTUnwrap(TestBootstrap.interval(test, metric: .accuracy))
    XCTAssertEqual(accuracy.high - accuracy.low, 2 * 1.96 * (0.75 * 0.25 / 160).squareRoot(), accuracy: 0.03)
    XCTAssertNil(TestBootstrap.interval([], metric: .accuracy))
  }

  func testThePairedDifference_tellsAGapFromNoise() throws {
    let (strong, weak, close) = (records(160, right: 150), records(160, right: 100), records(160, right: 147))
    let clear = try XCTUnwrap(TestBootstrap.difference(strong, weak, metric: .accuracy))
    XCTAssertEqual(clear.images, 160)
    XCTAssertEqual(clear.interval.estimate, 50.0 / 160, accuracy: 1e-12)
    XCTAssertTrue(clear.interval.excludes(0))
    let tie = try XCTUnwrap(TestBootstrap.difference(strong, close, metric: .accuracy))
    XCTAssertFalse(tie.interval.excludes(0), "3 images of 160: \(tie.interval)")
  }

  /// The report's words for the winner against the next runs.
  func testTheFindings_sayWhetherTheTestImagesCanTellTheRunsApart() throws {
    let fixture = try StoredSweepFixture()
    defer { fixture.remove() }
    let results = try SweepResults.load(from: fixture.store, sweep: fixture.sweep)
    let sentences = Findings.comparisons(SweepContender.all(results), metric: results.sweep.metric)
    XCTAssertEqual(sentences.count, 2, "\(sentences)")
    XCTAssertTrue(sentences.allSatisfy { $0.hasPrefix("Run 2 ") && $0.contains("test images") && $0.contains("95% interval of the difference") },
                  "\(sentences)")
  }
}

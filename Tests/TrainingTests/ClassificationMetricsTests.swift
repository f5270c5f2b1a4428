import Foundation
import Training
import XCTest

final class ClassificationMetricsTests: XCTestCase {
  /// Six predictions over three classes; expected values worked out by hand (as
  /// scikit-learn's accuracy_score, balanced_accuracy_score, f1_score(average="macro")
  /// and log_loss define them).
  func testMetrics_onASmallConfusionMatrix() {
    let labels = [0, 0, 1, 1, 2, 2]
    let probabilities: [Float] = [
      0.7, 0.2, 0.1,  // 0 → 0
      0.4, 0.5, 0.1,  // 0 → 1
      0.1, 0.8, 0.1,  // 1 → 1
      0.2, 0.6, 0.2,  // 1 → 1
      0.3, 0.3, 0.4,  // 2 → 2
      0.6, 0.1, 0.3,  // 2 → 0
    ]
    let m = ClassificationMetrics(probabilities: probabilities, labels: labels, classes: 3)
    XCTAssertEqual(m.confusion, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    XCTAssertEqual(m.accuracy, 4.0 / 6, accuracy: 1e-12)
    XCTAssertEqual(m.recall, [0.5, 1, 0.5])
    XCTAssertEqual(m.precision, [0.5, 2.0 / 3, 1])
    XCTAssertEqual(m.meanClassAccuracy, 2.0 / 3, accuracy: 1e-12)
    // F1: class 0 0.5, class 1 0.8, class 2 2/3.
    XCTAssertEqual(m.macroF1, (0.5 + 0.8 + 2.0 / 3) / 3, accuracy: 1e-12)
    let expectedLoss = -[0.7, 0.4, 0.8, 0.6, 0.4, 0.3].map { log(Double(Float($0))) }.reduce(0, +) / 6
    XCTAssertEqual(m.logLoss, expectedLoss, accuracy: 1e-6)
    XCTAssertEqual(m.mostConfused().map { [$0.actual, $0.predicted, $0.count] }, [[0, 1, 1], [2, 0, 1]])
  }

  func testLogLoss_clipsAndRenormalisesLikeKaggle() {
    let m = ClassificationMetrics(probabilities: [1, 0, 0, 1], labels: [1, 0], classes: 2)
    XCTAssertEqual(m.logLoss, -log(1e-15), accuracy: 1e-6, "a confident mistake costs -log(1e-15), not infinity")
    let unnormalised = ClassificationMetrics(probabilities: [2, 2], labels: [0], classes: 2)
    XCTAssertEqual(unnormalised.logLoss, log(2), accuracy: 1e-9, "rows are renormalised after clipping")
  }

  func testAbsentClasses_areLeftOutOfTheMeans() {
    let m = ClassificationMetrics(probabilities: [0.9, 0.1, 0, 0.2, 0.8, 0], labels: [0, 1], classes: 3)
    XCTAssertEqual(m.meanClassAccuracy, 1)
    XCTAssertEqual(m.macroF1, 1)
  }

  /// scikit-learn's values (scripts/reference/make_metric_fixtures.py), including a class
  /// predicted but absent from the labels, which counts in macro-F1 with F1 = 0.
  func testMetrics_matchScikitLearn() throws {
    let url = try XCTUnwrap(Bundle.module.url(forResource: "metrics", withExtension: "json", subdirectory: "Fixtures"))
    let cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
    XCTAssertEqual(cases.count, 4)
    for fixture in cases {
      let name = try XCTUnwrap(fixture["name"] as? String)
      let probabilities = try XCTUnwrap(fixture["probabilities"] as? [NSNumber]).map(\.floatValue)
      let m = ClassificationMetrics(probabilities: probabilities, labels: try XCTUnwrap(fixture["labels"] as? [Int]),
                                    classes: try XCTUnwrap(fixture["classes"] as? Int))
      XCTAssertEqual(m.accuracy, try XCTUnwrap(fixture["accuracy"] as? Double), accuracy: 1e-12, name)
      XCTAssertEqual(m.meanClassAccuracy, try XCTUnwrap(fixture["balanced_accuracy"] as? Double), accuracy: 1e-12, name)
      XCTAssertEqual(m.macroF1, try XCTUnwrap(fixture["macro_f1"] as? Double), accuracy: 1e-12, name)
      XCTAssertEqual(m.logLoss, try XCTUnwrap(fixture["log_loss"] as? Double), accuracy: 1e-6, name)
    }
  }

  func testMetricDirection() {
    XCTAssertTrue(MetricName.accuracy.isBetter(0.9, than: 0.8))
    XCTAssertTrue(MetricName.logLoss.isBetter(0.1, than: 0.2))
    XCTAssertEqual(MetricName(rawValue: "macro-f1"), .macroF1)
  }
}

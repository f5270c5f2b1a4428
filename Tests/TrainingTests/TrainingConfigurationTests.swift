import Foundation
import Training
import XCTest

final class TrainingConfigurationTests: XCTestCase {
  /// scikit-learn's "balanced": n_images / (n_classes · n_images_of_class).
  func testBalancedClassWeights() {
    var configuration = TrainingConfiguration()
    XCTAssertNil(configuration.classWeights(labels: [0, 0, 0, 1], classes: 2))
    configuration.classWeight = .balanced
    let weights = configuration.classWeights(labels: [0, 0, 0, 1], classes: 2)!
    XCTAssertEqual(weights[0], 4.0 / 6, accuracy: 1e-6)
    XCTAssertEqual(weights[1], 2, accuracy: 1e-6)
  }

  /// Runs stored before `classWeight` existed decode with its default, and an unweighted
  /// run encodes exactly as before (so re-planning an old sweep duplicates nothing).
  func testStoredParameters_stayCompatible() throws {
    let old = #"{"batchSize":8,"epochs":3,"labelSmoothing":0,"learningRate":0.01,"metric":"accuracy","momentum":0.9,"nesterov":false,"optimizer":"sgd","schedule":"cosine","seed":4,"warmupEpochs":0,"weightDecay":0}"#
    let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(old.utf8))
    XCTAssertEqual(decoded.classWeight, .none)
    XCTAssertEqual(decoded.batchSize, 8)
    XCTAssertEqual(decoded.optimizer, .sgd)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    XCTAssertEqual(String(decoding: try encoder.encode(decoded), as: UTF8.self), old)
    var weighted = decoded
    weighted.classWeight = .balanced
    let again = try JSONDecoder().decode(TrainingConfiguration.self, from: try encoder.encode(weighted))
    XCTAssertEqual(again, weighted)
  }
}

import Datasets
import Foundation
import XCTest

/// `podium train` on the generated demo set.
final class TrainCommandTests: XCTestCase {
  func testTrainSmallCNNFromScratch_printsEpochsAndTestMetrics() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-train-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let demo = DemoDataset(imagesPerClass: 5, testImagesPerClass: 0, size: 32)
    try demo.write(to: folder)
    let result = try PodiumRunner().run([
      "train", "--dataset", "natural-images:\(folder.path)", "--split", "0.6,0.2,0.2", "--backbone", "small_cnn",
      "--strategy", "scratch", "--image-size", "32", "--epochs", "2", "--batch-size", "8", "--out", folder.appendingPathComponent("run").path,
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("epoch  train_loss  valid_loss  accuracy"), result.stdout)
    XCTAssertTrue(result.stdout.contains("test: accuracy"), result.stdout)
    XCTAssertTrue(result.stderr.contains("best epoch"), result.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/train/best.safetensors").path))
  }

  func testPretrainedStrategyForTheSmallCNN_isABadArgument() throws {
    let result = try PodiumRunner().run(["train", "--dataset", "natural-images:/tmp", "--backbone", "small_cnn", "--strategy", "features"])
    XCTAssertNotEqual(result.status, 0)
    XCTAssertTrue(result.stderr.contains("small_cnn has no pretrained weights: use --strategy scratch"), result.stderr)
  }
}

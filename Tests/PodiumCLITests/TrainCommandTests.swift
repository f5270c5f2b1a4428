import Datasets
import Foundation
import Training
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
    XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/train/epoch-1/best.safetensors").path))
  }

  /// `--folds 4`: one run per fold, the CV score over the out-of-fold predictions (written
  /// with `--oof`, one row per image outside the test split), the fold spread, and the test
  /// score of the fold models' mean.
  func testTrainWithFolds_printsTheCVScore_andWritesTheOutOfFoldPredictions() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-train-cv-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 5, testImagesPerClass: 0, size: 32).write(to: folder)
    let oof = folder.appendingPathComponent("oof.csv")
    let result = try PodiumRunner().run([
      "train", "--dataset", "natural-images:\(folder.path)", "--split", "0.8,0,0.2", "--backbone", "small_cnn", "--strategy", "scratch",
      "--image-size", "32", "--epochs", "1", "--batch-size", "8", "--folds", "4", "--oof", oof.path,
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("4-fold cross-validation over 32 images (folds of 8, 8, 8, 8), 8 test images"), result.stdout)
    XCTAssertEqual(result.stdout.split(separator: "\n").filter { $0.hasPrefix("fold ") }, ["fold 1 of 4:", "fold 2 of 4:", "fold 3 of 4:", "fold 4 of 4:"])
    let line = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("CV accuracy") }, result.stdout)
    XCTAssertTrue(line.contains("over 32 out-of-fold predictions"), String(line))
    XCTAssertTrue(result.stdout.contains("test (mean of the fold models): accuracy"), result.stdout)
    let rows = try String(contentsOf: oof, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(rows.first, "path,label," + DemoDataset.classNames.sorted().joined(separator: ","))
    XCTAssertEqual(Set(rows.dropFirst().map { $0.split(separator: ",")[0] }).count, 32, "each image once")
    let bad = try PodiumRunner().run(["train", "--dataset", "natural-images:\(folder.path)", "--backbone", "small_cnn", "--strategy", "scratch",
                                      "--folds", "1"])
    XCTAssertEqual(bad.stderr.split(separator: "\n").first, "Error: --folds must be between 2 and 100, got 1")
  }

  /// `podium lr-find` on a frozen trunk's features: the pass, both suggestions and a plot.
  func testLrFind_printsSuggestions_andWritesAPlot() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-lrfind-cli-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 6, testImagesPerClass: 0, size: 48).write(to: folder)
    let plot = folder.appendingPathComponent("lr.svg")
    let result = try PodiumRunner().run([
      "lr-find", "--dataset", "natural-images:\(folder.path)", "--backbone", "efficientnet_lite0", "--strategy", "features",
      "--image-size", "48", "--batch-size", "8", "--steps", "60", "--plot", plot.path,
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.hasPrefix("60 steps from 1.0e-07") || result.stdout.contains("stopped on divergence"), result.stdout)
    XCTAssertTrue(result.stdout.contains("suggested learning rate: "), result.stdout)
    XCTAssertTrue(result.stdout.contains("(steepest descent); minimum / 10: "), result.stdout)
    let svg = try String(contentsOf: plot, encoding: .utf8)
    XCTAssertTrue(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    XCTAssertTrue(svg.contains("<title>smoothed loss</title>"))
  }

  /// `podium train --help` lists exactly the table's keys as hyperparameter flags, so a key
  /// cannot exist in a sweep spec and not on the command line, or the other way round.
  func testHelp_listsExactlyTheHyperparameterTable() throws {
    let help = try PodiumRunner().run(["train", "--help"])
    XCTAssertEqual(help.status, 0, help.stderr)
    let section = try XCTUnwrap(help.stdout.components(separatedBy: "HYPERPARAMETERS").last?.components(separatedBy: "\nOPTIONS:").first)
    let flags = section.split(separator: "\n").compactMap { line -> String? in
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      return trimmed.hasPrefix("--") ? String(trimmed.prefix { $0 != " " }) : nil
    }
    XCTAssertEqual(flags, Hyperparameter.allCases.map { "--" + $0.rawValue.replacingOccurrences(of: "_", with: "-") })
  }

  /// Flags go through the table's checks: the same values are refused as in a spec, with
  /// the flag named.
  func testBadHyperparameterFlags_areRefusedNamingTheFlag() throws {
    let cases = [
      (["--lr", "0"], "Error: --lr must be a number > 0 or find, got 0"),
      (["--finetune-optimizer", "lbfgs"], "Error: --finetune-optimizer must be one of sgd, adam, adamw, got lbfgs"),
      (["--augment", "fancy"], "Error: --augment must be one of keras, light, none, standard, strong, got fancy"),
      (["--batch-size", "2.5"], "Error: --batch-size must be an integer ≥ 1, got 2.5"),
    ]
    for (flags, expected) in cases {
      let result = try PodiumRunner().run(["train", "--dataset", "natural-images:/tmp", "--backbone", "small_cnn", "--strategy", "scratch"] + flags)
      XCTAssertNotEqual(result.status, 0)
      XCTAssertEqual(result.stderr.split(separator: "\n").first.map(String.init), expected)
    }
  }

  func testPretrainedStrategyForTheSmallCNN_isABadArgument() throws {
    let result = try PodiumRunner().run(["train", "--dataset", "natural-images:/tmp", "--backbone", "small_cnn", "--strategy", "features"])
    XCTAssertNotEqual(result.status, 0)
    XCTAssertTrue(result.stderr.contains("small_cnn has no pretrained weights: use --strategy scratch"), result.stderr)
  }
}

import DatasetTestSupport
import Foundation
import XCTest

/// Competitions laid out as Kaggle ships them, from `podium sweep run` to a submission that
/// copies the sample's header and row order and that `podium score` accepts against hidden
/// answers.
final class CSVCompetitionTests: XCTestCase {
  private var fixtures: DatasetFixtures!

  override func setUpWithError() throws { fixtures = try DatasetFixtures() }
  override func tearDown() { fixtures.remove() }

  /// Runs a one-run sweep on the competition at `root`, submits like its sample, checks the
  /// header and order, and scores the file against `answers` (written beside the data).
  private func submitLikeTheSample(root: URL, adapter: String = "csv", options: String, answers: String) throws -> String {
    let spec = root.deletingLastPathComponent().appendingPathComponent("\(root.lastPathComponent).yaml")
    try """
      name: \(root.lastPathComponent)
      dataset:
        adapter: \(adapter)
        root: "\(root.path)"
        \(options)
        split: {train: 0.5, val: 0.5, test: 0}
      grid: {backbone: [small_cnn], strategy: [scratch]}
      fixed: {epochs: 1, batch_size: 4, image_size: 24, augment: none}
      """.write(to: spec, atomically: true, encoding: .utf8)
    let database = root.deletingLastPathComponent().appendingPathComponent("\(root.lastPathComponent).sqlite").path
    let sweep = try PodiumRunner().run(["sweep", "run", spec.path, "--db", database, "--work", root.deletingLastPathComponent().appendingPathComponent("runs").path])
    XCTAssertEqual(sweep.status, 0, sweep.stderr)
    let submission = root.deletingLastPathComponent().appendingPathComponent("submission.csv")
    let sample = root.appendingPathComponent("sample_submission.csv")
    let submitted = try PodiumRunner().run(["submit", "--run", "1", "--db", database, "--like", sample.path, "--out", submission.path])
    XCTAssertEqual(submitted.status, 0, submitted.stderr)
    let written = try String(contentsOf: submission, encoding: .utf8).split(separator: "\n")
    let expected = try String(contentsOf: sample, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(written.first, expected.first, "the sample's header")
    XCTAssertEqual(written.map { $0.split(separator: ",").first }, expected.map { $0.split(separator: ",").first }, "the sample's ids, in order")
    let answersFile = root.deletingLastPathComponent().appendingPathComponent("answers.csv")
    try answers.write(to: answersFile, atomically: true, encoding: .utf8)
    let scored = try PodiumRunner().run(["score", submission.path, "--answers", answersFile.path])
    XCTAssertEqual(scored.status, 0, scored.stderr)
    return written.dropFirst().first.map(String.init) ?? ""
  }

  /// aptos2019-blindness-detection: `id_code,diagnosis`, ids without extension, whole-number labels.
  func testAptos_fromSweepToASubmissionLikeTheSample() throws {
    let row = try submitLikeTheSample(
      root: try fixtures.aptos(),
      options: "file: train.csv\n  path_column: id_code\n  label_column: diagnosis\n  path_template: \"train_images/{id}.png\"\n"
        + "  test_folder: test_images\n  sample_submission: sample_submission.csv",
      answers: "id_code,diagnosis\ne4dcca36ceb4,0\n0005cfc8afb6,4\n003f0afdcd15,2\n")
    XCTAssertTrue(["0", "1", "2", "4"].contains(String(row.split(separator: ",").last ?? "")), "a class as the sample writes it: \(row)")
  }

  /// plant-seedlings-classification: class folders under `train/`, `file,species` with file names.
  func testPlantSeedlings_fromSweepToASubmissionLikeTheSample() throws {
    let row = try submitLikeTheSample(
      root: try fixtures.plantSeedlings(), adapter: "image-folder",
      options: "train_folder: train\n  test_folder: test\n  sample_submission: sample_submission.csv",
      answers: "file,species\nfd87b36ae.png,Charlock\n0021e90e4.png,Black-grass\n003d61042.png,Common Chickweed\n")
    XCTAssertTrue(row.hasPrefix("fd87b36ae.png,"), row)
    XCTAssertTrue(["Black-grass", "Charlock", "Common Chickweed"].contains(String(row.split(separator: ",").last ?? "")), row)
  }

  /// aerial-cactus-identification: `id,has_cactus`, ids with `.jpg`, a probability column.
  func testAerialCactus_fromSweepToAProbabilitySubmissionLikeTheSample() throws {
    let row = try submitLikeTheSample(
      root: try fixtures.aerialCactus(),
      options: "file: train.csv\n  path_column: id\n  label_column: has_cactus\n  path_template: \"train/{id}\"\n  test_folder: test\n  sample_submission: sample_submission.csv",
      answers: "id,has_cactus\nc662bde123f0f83b3caae0ffda237a93.jpg,1\n000940378805c44108d287872b2f04ce.jpg,0\n")
    let probability = try XCTUnwrap(Double(row.split(separator: ",").last ?? ""), row)
    XCTAssertTrue((0...1).contains(probability), row)
  }
}

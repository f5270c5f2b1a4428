import Datasets
import Foundation
import Reports
import Training
import XCTest

final class ScoringTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-score-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  private func file(_ name: String, _ text: String) throws -> URL {
    let url = folder.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  private let answers = "id,label,Usage\n1,cat,Public\n2,dog,Private\n3,dog,Public\n4,cat,Private\n5,dog,Private\n"

  func testAccuracy_onPublicAndPrivateRows_fromTheUsageColumn() throws {
    let key = try file("answers.csv", answers)
    let submission = try file("sub.csv", "id,label\n1,cat\n2,cat\n3,dog\n4,cat\n5,dog\n")
    let score = try Scorer().score(submission: submission, answers: key)
    XCTAssertTrue(score.fromUsageColumn)
    XCTAssertEqual([score.publicCount, score.privateCount], [2, 3])
    XCTAssertEqual(score.publicScore, 1)
    XCTAssertEqual(score.privateScore, 2.0 / 3, accuracy: 1e-12)
  }

  /// Dogs vs Cats Redux: P(dog) against 0/1 answers, log loss clipped as Kaggle does.
  func testBinaryLogLoss_isClippedLikeKaggle() throws {
    let key = try file("answers.csv", "id,label\n1,1\n2,0\n")
    let submission = try file("sub.csv", "id,label\n1,0\n2,0.2\n")
    let score = try Scorer(metric: .logLoss, publicFraction: 0.5, seed: 0).score(submission: submission, answers: key)
    let terms = [-log(1e-15), -log(0.8)]
    XCTAssertEqual(score.publicScore + score.privateScore, terms.reduce(0, +), accuracy: 1e-6, "one row each side")
  }

  /// Without a Usage column the split is seeded: the same seed splits the same way.
  func testTheSeededSplit_isDeterministic() throws {
    let ids = (1...100).map(String.init)
    XCTAssertEqual(PublicPrivateSplit.publicIDs(ids, fraction: 0.3, seed: 7), PublicPrivateSplit.publicIDs(ids.reversed(), fraction: 0.3, seed: 7))
    XCTAssertEqual(PublicPrivateSplit.publicIDs(ids, fraction: 0.3, seed: 7).count, 30)
    XCTAssertNotEqual(PublicPrivateSplit.publicIDs(ids, fraction: 0.3, seed: 7), PublicPrivateSplit.publicIDs(ids, fraction: 0.3, seed: 8))
  }

  func testProbabilityColumns_areScored() throws {
    let key = try file("answers.csv", "id,label\n1,cat\n2,dog\n")
    let submission = try file("sub.csv", "id,dog,cat\n1,0.3,0.7\n2,0.6,0.4\n")
    let score = try Scorer(metric: .accuracy, publicFraction: 1).score(submission: submission, answers: key)
    XCTAssertEqual(score.publicScore, 1)
    XCTAssertEqual(score.publicCount, 2)
  }

  /// Each kind of bad submission is rejected with its row named.
  func testBadSubmissions_nameTheRow() throws {
    let key = try file("answers.csv", answers)
    let binaryKey = try file("binary.csv", "id,label\n1,1\n2,0\n")
    let cases: [(URL, String, String)] = [
      (key, "id,prediction\n1,cat\n", "line 1: header must be id,label or id followed by one column per class (cat,dog); got id,prediction"),
      (key, "id,label\n1,cat\n7,dog\n", "line 3: id 7 is not in the answers"),
      (key, "id,label\n1,cat\n2,dog\n1,dog\n", "line 4: id 1 appears again (first on line 2)"),
      (key, "id,label\n1,cat\n2,dog\n3,dog\n", "no row for id 4 (answers line 5) and 1 other id"),
      (key, "id,label\n1,cat\n2,zebra\n", "line 3: label \"zebra\" is not one of the classes cat, dog"),
      (binaryKey, "id,label\n1,1.3\n2,0\n", "line 2: label 1.3 is outside [0, 1]"),
      (binaryKey, "id,label\n1,-0.1\n2,0\n", "line 2: label -0.1 is outside [0, 1]"),
      (key, "id,cat,dog\n1,0.5,1.5\n", "line 2: dog probability 1.5 is not a number in [0, 1]"),
      (key, "id,label\n1,cat,extra\n", "line 2: expected 2 fields as in the header, found 3"),
    ]
    for (answers, text, expected) in cases {
      let submission = try file("bad.csv", text)
      XCTAssertThrowsError(try Scorer().score(submission: submission, answers: answers), text) { error in
        XCTAssertEqual("\(error)", "\(submission.path) \(expected)".replacingOccurrences(of: "\(submission.path) no row", with: "\(submission.path): no row"), text)
      }
    }
  }

  /// The fuzzers' findings, replayed: a submission whose answers file is empty (the input
  /// as found, split at its zero byte) and an empty labels CSV. Each is one clear error; the
  /// 4 KiB that Foundation's `Data(contentsOf:)` leaked per empty file (seen under
  /// LeakSanitizer) is gone since files are read through `FileContents`.
  func testFuzzFindings_emptyFiles_areOneClearError() throws {
    let found = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/fuzz-empty-answers.bin"))
    let parts = found.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    let submission = folder.appendingPathComponent("sub.csv"), key = folder.appendingPathComponent("answers.csv")
    try Data(parts[0]).write(to: submission)
    try Data(parts[1]).write(to: key)
    XCTAssertEqual(parts[1].count, 0)
    XCTAssertThrowsError(try Scorer().score(submission: submission, answers: key)) {
      XCTAssertEqual("\($0)", "\(key.path): empty file: no header row")
    }
    let labels = try file("labels.csv", "")
    XCTAssertThrowsError(try DatasetAdapter.csv.load(root: folder, options: ["file": "labels.csv"])) {
      XCTAssertEqual("\($0)", "\(labels.path): empty file: no header row")
    }
  }

  /// MAP@3 as Kaggle's `apk` computes it with one true label: 1/position of its first
  /// occurrence among the first three labels, 0 past them.
  func testMeanAveragePrecisionAtK_scoresRankedLabels() throws {
    let key = try file("answers.csv", "id,label\n1,cat\n2,dog\n3,bird\n4,cat\n5,dog\n")
    let submission = try file("sub.csv", "id,label\n1,cat dog\n2,cat dog\n3,cat dog bird\n4,dog dog cat\n5,bird cat cat dog\n")
    let score = try Scorer(scoring: .meanAveragePrecision(at: 3), publicFraction: 1).score(submission: submission, answers: key)
    XCTAssertEqual(score.publicScore, (1 + 0.5 + 1.0 / 3 + 1.0 / 3 + 0) / 5, accuracy: 1e-12)
    XCTAssertEqual(ScoreMetric("map@3"), .meanAveragePrecision(at: 3))
    XCTAssertEqual(ScoreMetric("logloss"), .classification(.logLoss))
    XCTAssertNil(ScoreMetric("map@0"))
    let unknown = try file("bad.csv", "id,label\n1,cat\n2,cow\n3,bird\n4,cat\n5,dog\n")
    XCTAssertThrowsError(try Scorer(scoring: .meanAveragePrecision(at: 3)).score(submission: unknown, answers: key)) {
      XCTAssertEqual("\($0)", "\(unknown.path) line 3: label \"cow\" is not one of the classes bird, cat, dog")
    }
  }
}

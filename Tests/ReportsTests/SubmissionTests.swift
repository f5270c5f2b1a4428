import Datasets
import Foundation
import Reports
import XCTest

final class SubmissionTests: XCTestCase {
  private let twoClass: [(id: String, probabilities: [Float])] = [("10", [0.2, 0.8]), ("9", [0.9, 0.1]), ("100", [0.4, 0.6])]

  func testDogsVsCatsRedux_isTheProbabilityOfDog_sortedByNumericID() throws {
    let submission = try Submission(predictions: twoClass, classNames: ["cat", "dog"], format: .competitionDefault(adapter: "dogs-vs-cats"))
    XCTAssertEqual(submission.csv(), "id,label\n9,0.100000\n10,0.800000\n100,0.600000\n")
  }

  /// A sample submission: its header and order are copied; its values choose the format.
  func testLikeASample_copiesHeaderAndOrder_andReadsTheFormatFromItsValues() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-sample-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    func sample(_ text: String) throws -> SampleSubmission {
      let url = folder.appendingPathComponent("sample-\(UUID().uuidString).csv")
      try text.write(to: url, atomically: true, encoding: .utf8)
      return try SampleSubmission(contentsOf: url)
    }
    let probabilities = try Submission(like: try sample("image,has_dog\n100.jpg,0.5\n9.jpg,0.5\n10.jpg,0.5\n"), predictions: twoClass,
                                       classNames: ["cat", "dog"], format: .auto)
    XCTAssertEqual(probabilities.csv(), "image,has_dog\n100.jpg,0.600000\n9.jpg,0.100000\n10.jpg,0.800000\n", "ids matched without extension")
    let labels = try Submission(like: try sample("id,animal\n9,cat\n10,cat\n100,cat\n"), predictions: twoClass, classNames: ["cat", "dog"],
                                format: .auto)
    XCTAssertEqual(labels.rows, [["9", "cat"], ["10", "dog"], ["100", "dog"]])
    let codes = try Submission(like: try sample("id_code,diagnosis\n10,0\n9,0\n100,0\n"), predictions: twoClass, classNames: ["0", "4"],
                               format: .auto)
    XCTAssertEqual(codes.rows.map { $0[1] }, ["4", "0", "4"], "whole numbers that are the classes")
    let columns = try Submission(like: try sample("id,dog,cat\n9,0.5,0.5\n10,0.5,0.5\n100,0.5,0.5\n"), predictions: twoClass,
                                 classNames: ["cat", "dog"], format: .auto)
    XCTAssertEqual(columns.rows[0], ["9", "0.100000", "0.900000"], "in the sample's column order")
    let missing = try sample("id,label\n9,cat\n11,cat\n")
    XCTAssertThrowsError(try Submission(like: missing, predictions: twoClass, classNames: ["cat", "dog"], format: .auto)) {
      XCTAssertTrue("\($0)".hasPrefix("\(missing.path) line 3: id 11 has no prediction; the run predicted 3 test images"), "\($0)")
    }
  }

  /// `--top 2`: the two most likely labels, best first; only for labels, and only for class
  /// names without spaces.
  func testTopK_writesTheMostLikelyLabelsBestFirst() throws {
    let predictions: [(id: String, probabilities: [Float])] = [("a", [0.2, 0.5, 0.3]), ("b", [0.6, 0.1, 0.3])]
    let submission = try Submission(predictions: predictions, classNames: ["x", "y", "z"], format: .auto, top: 2)
    XCTAssertEqual(submission.rows, [["a", "y z"], ["b", "x z"]])
    XCTAssertThrowsError(try Submission(predictions: predictions, classNames: ["x", "y y", "z"], format: .auto, top: 2)) {
      XCTAssertEqual("\($0)", "--top needs class names without spaces (they separate the labels); \"y y\" has one")
    }
    XCTAssertThrowsError(try Submission(predictions: predictions, classNames: ["x", "y", "z"], format: .columns, top: 2))
  }

  func testOriginalDogsVsCats_isZeroOrOne() throws {
    let submission = try Submission(predictions: twoClass, classNames: ["cat", "dog"], format: .binary)
    XCTAssertEqual(submission.rows.map { $0[1] }, ["0", "1", "1"])
  }

  func testFlickr8_labelsAreOneToEight() throws {
    let predictions: [(id: String, probabilities: [Float])] = [("a", [0, 0, 0, 0, 0, 0, 0, 1]), ("b", [1, 0, 0, 0, 0, 0, 0, 0])]
    let submission = try Submission(predictions: predictions, classNames: (1...8).map { "c\($0)" }, format: .competitionDefault(adapter: "flickr8"))
    XCTAssertEqual(submission.rows, [["a", "8"], ["b", "1"]])
  }

  /// Class names with commas and quotes are quoted so any CSV reader gets them back.
  func testClassNames_areQuotedAndReadBack() throws {
    let names = ["plain", "with, comma", "with \"quotes\""]
    let predictions: [(id: String, probabilities: [Float])] = [("x", [0, 1, 0]), ("y", [0, 0, 1]), ("z", [1, 0, 0])]
    let text = try Submission(predictions: predictions, classNames: names, format: .labels).csv()
    XCTAssertTrue(text.contains("x,\"with, comma\"\n"))
    XCTAssertTrue(text.contains("y,\"with \"\"quotes\"\"\"\n"))
    let table = try CSVTable(data: Data(text.utf8), path: "submission.csv")
    XCTAssertEqual(table.rows.map { $0.fields[1] }, ["with, comma", "with \"quotes\"", "plain"])
  }

  func testColumns_writeOneProbabilityPerClass() throws {
    let submission = try Submission(predictions: twoClass, classNames: ["cat", "dog"], format: .columns)
    XCTAssertEqual(submission.header, ["id", "cat", "dog"])
    XCTAssertEqual(submission.rows[0], ["9", "0.900000", "0.100000"])
  }

  func testAFormatThatDoesNotFit_andNoPredictions_areClearErrors() {
    XCTAssertThrowsError(try Submission(predictions: [("1", [1, 0, 0])], classNames: ["a", "b", "c"], format: .probability)) {
      XCTAssertEqual("\($0)", "--format probability needs 2 classes; this dataset has 3")
    }
    XCTAssertThrowsError(try Submission(predictions: [], classNames: ["a"], format: .labels)) {
      XCTAssertTrue("\($0)".hasPrefix("no predictions for unlabelled test images"))
    }
  }

  /// An ensemble is the mean of the runs' probabilities; the file is written atomically (no
  /// temporary file is left beside it).
  func testEnsemble_averagesTheRunsAndWritesAtomically() throws {
    let fixture = try StoredSweepFixture()
    defer { fixture.remove() }
    XCTAssertThrowsError(try Ensemble.mean(of: [1, 2], in: fixture.store)) {
      XCTAssertEqual("\($0)", "run 2 predicted a different set of test images than run 1: they cannot be ensembled")
    }
    let mean = try Ensemble.mean(of: [1, 3], in: fixture.store)
    XCTAssertEqual(mean.map(\.id), ["10", "20", "30", "40", "50"])
    XCTAssertEqual(mean[0].probabilities[1], 0.6, accuracy: 1e-6, "(0.7 + 0.5) / 2")
    XCTAssertEqual(mean[0].probabilities[0], 0.2, accuracy: 1e-6, "(0.15 + 0.25) / 2")
    let out = fixture.folder.appendingPathComponent("sub/submission.csv")
    try Submission(predictions: mean, classNames: StoredSweepFixture.classNames, format: .columns).write(to: out)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path), ["submission.csv"])
  }

  /// What `podium submit` and the demo write: runs chosen from the store, the format the
  /// competition takes, and one clear error for a run that cannot be submitted.
  func testSubmissionPlan_choosesRunsAndFormat_andRefusesUnfinishedRuns() throws {
    let fixture = try StoredSweepFixture()
    defer { fixture.remove() }
    let single = try SubmissionPlan(.run(1), store: fixture.store, format: .auto)
    XCTAssertEqual(single.runs, [1])
    XCTAssertEqual(single.format, .labels, "image-folder competitions take class names")
    XCTAssertEqual(single.summary, "run 1, format labels")
    XCTAssertEqual(single.submission.rows.count, 5)
    let best = try SubmissionPlan(.ensemble(count: 1, sweep: nil), store: fixture.store, format: .columns)
    XCTAssertEqual(best.runs, [2], "the best run by validation metric")
    XCTAssertThrowsError(try SubmissionPlan(.ensemble(count: 2, sweep: fixture.sweep), store: fixture.store, format: .auto)) {
      XCTAssertEqual("\($0)", "run 3 predicted a different set of test images than run 2: they cannot be ensembled")
    }
    XCTAssertThrowsError(try SubmissionPlan(.run(4), store: fixture.store, format: .auto)) {
      XCTAssertEqual("\($0)", "run 4 is failed, not finished")
    }
    XCTAssertThrowsError(try SubmissionPlan(.run(99), store: fixture.store, format: .auto)) {
      XCTAssertEqual("\($0)", "no run with id 99 in the database")
    }
  }
}

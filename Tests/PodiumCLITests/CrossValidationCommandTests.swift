import Datasets
import Foundation
import ResultsStore
import Sweeps
import XCTest

/// A 5-fold sweep from the command line: killed in the middle of a fold and rerun, then
/// ranked by CV score, ensembled on its out-of-fold predictions and submitted as the mean of
/// its fold models.
final class CrossValidationCommandTests: XCTestCase {
  private var folder: URL!
  private var database: String { folder.appendingPathComponent("podium.sqlite").path }

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-cv-\(UUID().uuidString)")
    try DemoDataset(imagesPerClass: 5, testImagesPerClass: 1, size: 32).write(to: folder.appendingPathComponent("data"))
    let spec = """
      name: folds
      dataset:
        adapter: natural-images
        root: \(folder.appendingPathComponent("data").path)
        split: {train: 0.8, val: 0, test: 0.2, seed: 0}
      metric: accuracy
      grid: {lr: [0.01, 0.002]}
      fixed: {backbone: small_cnn, strategy: scratch, epochs: 4, batch_size: 8, image_size: 32, augment: none}
      cv: {folds: 5, seed: 0}
      """
    try spec.write(to: folder.appendingPathComponent("cv.yaml"), atomically: true, encoding: .utf8)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  private var sweepArguments: [String] {
    ["sweep", "run", folder.appendingPathComponent("cv.yaml").path, "--db", database, "--work", folder.appendingPathComponent("runs").path]
  }

  func testFiveFoldSweep_killedMidFold_givesEachImageOneOutOfFoldPrediction_andItsCVScore() throws {
    try killMidFold()
    let rerun = try PodiumRunner().run(sweepArguments)
    XCTAssertEqual(rerun.status, 0, rerun.stderr)
    let store = try ResultsStore(path: database)
    let sweep = try store.latestSweepID()
    let runs = try store.runs(sweep: sweep)
    XCTAssertEqual(runs.map(\.status.rawValue), [String](repeating: "done", count: 10), "no fold lost")
    XCTAssertEqual(runs.map { $0.spec?.fold }, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4], "no fold duplicated")
    let assignments = try XCTUnwrap(try store.dataset(ofSweep: sweep)).assignments
    let pool = assignments.filter { $0.fold != nil }
    XCTAssertEqual(pool.count, 32, "every labelled image outside the 20% test split is in a fold")
    var scores: [String] = []
    for configuration in [Array(runs[0..<5]), Array(runs[5..<10])] {
      var outOfFold: [PredictionRecord] = []
      for run in configuration {
        let predicted = try store.predictions(run: run.id, subset: .validation)
        XCTAssertEqual(Set(predicted.map(\.path)), Set(pool.filter { $0.fold == run.spec?.fold }.map(\.path)), "run \(run.id) predicts its own fold")
        outOfFold += predicted
      }
      XCTAssertEqual(outOfFold.map(\.path).sorted(), pool.map(\.path).sorted(), "each training image exactly once")
      let correct = outOfFold.filter { record in
        record.probabilities.indices.max { record.probabilities[$0] < record.probabilities[$1] } == record.label
      }.count
      scores.append(String(format: "%.4f", Double(correct) / Double(outOfFold.count)))
    }
    let board = try PodiumRunner().run(["leaderboard", "--db", database, "--out", folder.appendingPathComponent("boards").path])
    XCTAssertEqual(board.status, 0, board.stderr)
    let markdown = try String(contentsOf: folder.appendingPathComponent("boards/data.md"), encoding: .utf8)
    for (configuration, score) in zip(["| 1–5 (5 folds) |", "| 6–10 (5 folds) |"], scores) {
      let row = try XCTUnwrap(markdown.split(separator: "\n").first { $0.contains(configuration) }, markdown)
      XCTAssertTrue(row.contains("| \(score) |"), "the CV score is the accuracy over the stored out-of-fold predictions, \(score): \(row)")
    }
  }

  /// Killed with SIGKILL once two folds are done and a third has recorded an epoch.
  private func killMidFold() throws {
    let process = Process()
    process.executableURL = PodiumRunner().executable
    process.arguments = sweepArguments
    process.environment = PodiumRunner.commandEnvironment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(120)
    var killed = false
    while Date() < deadline && process.isRunning {
      if FileManager.default.fileExists(atPath: database), let store = try? ResultsStore(path: database),
        let runs = try? store.runs(sweep: try store.latestSweepID()), runs.filter({ $0.status == .done }).count >= 2,
        let running = runs.first(where: { $0.status == .running }), ((try? store.epochRecords(run: running.id).count) ?? 0) >= 1
      {
        kill(process.processIdentifier, SIGKILL)
        killed = true
        break
      }
      usleep(10_000)
    }
    process.waitUntilExit()
    XCTAssertTrue(killed, "the sweep finished before it could be killed mid-fold")
  }

  /// Greedy selection on out-of-fold predictions scores at least the best configuration's CV
  /// score; a fold run's id submits its configuration's fold-mean predictions.
  func testEnsembleOnOutOfFold_andSubmitTheMeanOfTheFoldModels() throws {
    let run = try PodiumRunner().run(sweepArguments)
    XCTAssertEqual(run.status, 0, run.stderr)
    let out = folder.appendingPathComponent("ensemble.csv").path
    let ensemble = try PodiumRunner().run(["ensemble", "--db", database, "--method", "greedy", "--out", out])
    XCTAssertEqual(ensemble.status, 0, ensemble.stderr)
    let line = try XCTUnwrap(ensemble.stdout.split(separator: "\n").first { $0.hasPrefix("greedy ensemble of") }, ensemble.stdout)
    // The two accuracies, printed with four decimals (the ensemble's size, "of 1", is not one).
    let numbers = line.split(whereSeparator: { " (),:".contains($0) }).filter { $0.contains(".") }.compactMap { Double($0) }
    XCTAssertEqual(numbers.count, 2, String(line))
    XCTAssertTrue(line.contains("out-of-fold accuracy"), String(line))
    XCTAssertGreaterThanOrEqual(numbers[0], numbers[1], "greedy never scores below the best single configuration: \(line)")

    let submission = folder.appendingPathComponent("fold-run.csv").path
    let submit = try PodiumRunner().run(["submit", "--db", database, "--run", "8", "--out", submission])
    XCTAssertEqual(submit.status, 0, submit.stderr)
    XCTAssertTrue(submit.stdout.contains("runs 6–10 (5 folds)"), submit.stdout)
    let store = try ResultsStore(path: database)
    let perFold = try (6...10).map { try store.predictions(run: Int64($0), subset: .unlabelled) }
    let expected = perFold[0].indices.map { image -> String in
      let mean = (0..<8).map { c in perFold.map { $0[image].probabilities[c] }.reduce(0, +) / 5 }
      return "\(perFold[0][image].imageID),\(DemoDataset.classNames.sorted()[mean.indices.max { mean[$0] < mean[$1] }!])"
    }
    let rows = try String(contentsOfFile: submission, encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
    XCTAssertEqual(rows.sorted(), expected.sorted(), "labels of the mean of the five fold models")
    let reports = folder.appendingPathComponent("reports").path
    let report = try PodiumRunner().run(["report", "--db", database, "--out", reports])
    XCTAssertEqual(report.status, 0, report.stderr)
    let page = try String(contentsOfFile: reports + "/folds/index.html", encoding: .utf8)
    XCTAssertTrue(page.contains("Best by 5-fold CV: small_cnn · scratch (runs "), "the headline names the best configuration")
    XCTAssertTrue(page.contains("<h2>Cross-validation: configurations by CV score</h2>"))
    XCTAssertTrue(page.contains("CV accuracy against public test accuracy"), "the CV-vs-public scatter")
    XCTAssertTrue(page.contains("best configuration"), "backbone × strategy compares configurations")
    let table = try String(contentsOfFile: reports + "/folds/cross-validation.csv", encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(table.count, 1 + 2, "one row per configuration")
    XCTAssertTrue(table[1].hasPrefix("1,runs "), String(table[1]))
  }

}

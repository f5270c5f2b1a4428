import Foundation
import XCTest

/// `podium demo`, `report`, `submit`, `score` and `leaderboard`, run as a user runs them.
final class DemoAndReportCommandTests: XCTestCase {
  private let podium = PodiumRunner()
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-demo-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  /// The quick demo writes a report, a leaderboard and a submission that `podium score`
  /// accepts; a tampered copy is rejected with its line named.
  func testQuickDemo_writesReportLeaderboardAndAScorableSubmission() throws {
    let demo = try podium.run(["demo", "--quick"], directory: folder)
    XCTAssertEqual(demo.status, 0, demo.stderr)
    XCTAssertTrue(demo.stdout.contains("report:      \(folder.path)/reports/demo-quick/index.html"), demo.stdout)
    XCTAssertTrue(demo.stdout.contains("public  (5 rows, 31%, Usage column): accuracy"), demo.stdout)
    for file in ["reports/demo-quick/index.html", "reports/demo-quick/leaderboard.csv", "leaderboards/demo-quick.md",
                 "leaderboards/demo-quick.csv", "reports/demo-quick/submission.csv"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), file)
    }
    let submission = folder.appendingPathComponent("reports/demo-quick/submission.csv").path
    let answers = folder.appendingPathComponent("datasets/demo-quick/answers.csv").path
    let score = try podium.run(["score", submission, "--answers", answers, "--metric", "macro-f1"])
    XCTAssertEqual(score.status, 0, score.stderr)
    XCTAssertTrue(score.stdout.contains("valid, 16 rows scored"), score.stdout)
    XCTAssertTrue(score.stdout.contains("private (11 rows, 68%): macro-f1"), score.stdout)

    var lines = try String(contentsOfFile: submission, encoding: .utf8).split(separator: "\n").map(String.init)
    lines.append(lines[1])
    let tampered = folder.appendingPathComponent("tampered.csv")
    try (lines.joined(separator: "\n") + "\n").write(to: tampered, atomically: true, encoding: .utf8)
    let rejected = try podium.run(["score", tampered.path, "--answers", answers])
    XCTAssertNotEqual(rejected.status, 0)
    XCTAssertTrue(rejected.stderr.contains("\(tampered.path) line 18: id 1 appears again (first on line 2)"), rejected.stderr)

    // Run again: the sweep resumes with nothing to do and the outputs are rewritten.
    let again = try podium.run(["demo", "--quick"], directory: folder)
    XCTAssertEqual(again.status, 0, again.stderr)
    XCTAssertTrue(again.stdout.contains("0 runs done, 0 failed in this invocation"), again.stdout)
  }

  /// The commands one by one on a sweep: report, an ensemble submission in the columns
  /// format, the leaderboard as CSV; and their clear errors.
  func testReportSubmitAndLeaderboard_onASweep() throws {
    let prepared = try podium.run(["demo", "--quick"], directory: folder)
    XCTAssertEqual(prepared.status, 0, prepared.stderr)
    let report = try podium.run(["report", "--out", "elsewhere"], directory: folder)
    XCTAssertEqual(report.status, 0, report.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("elsewhere/demo-quick/index.html").path))
    let submit = try podium.run(["submit", "--ensemble", "2", "--format", "columns", "--out", "sub.csv"], directory: folder)
    XCTAssertEqual(submit.status, 0, submit.stderr)
    let header = try String(contentsOf: folder.appendingPathComponent("sub.csv"), encoding: .utf8).prefix { $0 != "\n" }
    XCTAssertEqual(header, "id,circle,crescent,cross,ring,square,star,stripes,triangle")
    let board = try podium.run(["leaderboard", "--format", "csv"], directory: folder)
    XCTAssertEqual(board.status, 0, board.stderr)
    XCTAssertTrue(board.stdout.hasPrefix("rank,run,sweep,backbone,strategy,"), board.stdout)

    let noRun = try podium.run(["submit", "--run", "99", "--out", "x.csv"], directory: folder)
    XCTAssertTrue(noRun.stderr.contains("no run with id 99 in the database"), noRun.stderr)
    let both = try podium.run(["submit", "--run", "1", "--ensemble", "2", "--out", "x.csv"], directory: folder)
    XCTAssertTrue(both.stderr.contains("give exactly one of --run ID and --ensemble K"), both.stderr)
    let noDatabase = try podium.run(["report", "--db", "missing.sqlite"], directory: folder)
    XCTAssertEqual(noDatabase.stderr, "Error: missing.sqlite: no results database here: run `podium sweep run SPEC.yaml` or `podium demo` first\n")
    let unknown = try podium.run(["leaderboard", "--dataset", "nope"], directory: folder)
    XCTAssertTrue(unknown.stderr.contains("no sweeps on a dataset called nope; known: demo-quick"), unknown.stderr)
  }
}

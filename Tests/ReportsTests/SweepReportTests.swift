import Datasets
import Engine
import Foundation
import Reports
import ResultsStore
import Sweeps
import XCTest

final class SweepReportTests: XCTestCase {
  private var fixture: StoredSweepFixture!

  override func setUpWithError() throws { fixture = try StoredSweepFixture() }
  override func tearDown() { fixture.remove() }

  private func writeReport() throws -> (html: String, folder: URL) {
    let results = try SweepResults.load(from: fixture.store, sweep: fixture.sweep)
    let folder = fixture.folder.appendingPathComponent("report")
    let index = try SweepReport(results: results, store: fixture.store).write(to: folder)
    return (try String(contentsOf: index, encoding: .utf8), folder)
  }

  /// Class names come from folder names: markup in them renders as text, everywhere.
  func testEveryEmbeddedString_isEscaped() throws {
    let (html, folder) = try writeReport()
    XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    XCTAssertTrue(html.contains("hostile &lt;b&gt;sweep&lt;/b&gt;"))
    XCTAssertTrue(html.contains("&lt;epoch 1&gt;"), "the failed run's error is shown, escaped")
    for page in try FileManager.default.contentsOfDirectory(atPath: folder.path) where page.hasSuffix(".html") {
      let text = try String(contentsOf: folder.appendingPathComponent(page), encoding: .utf8)
      XCTAssertFalse(text.contains("<script>alert"), page)
      XCTAssertFalse(text.contains("<b>sweep"), page)
      XCTAssertEqual(text.components(separatedBy: "<script>").count, 2, "\(page): only the sorting script")
    }
  }

  /// A run that averaged its weights gets a column saying what averaging bought on
  /// validation; a report whose runs used neither averaging nor TTA has neither column.
  func testGainColumns_appearForTheTricksSomeRunUsed() throws {
    XCTAssertFalse(try writeReport().html.contains("averaging gain"))
    let run = try fixture.store.runs(sweep: fixture.sweep)[1]
    var completion = RunCompletion(outcome: .done, validationMetric: 0.9, testMetric: 0.85)
    completion.unaveragedValidationMetric = 0.85
    try fixture.store.finishRun(run.id, completion)
    let html = try writeReport().html
    XCTAssertTrue(html.contains("averaging gain (validation)"))
    XCTAssertTrue(html.contains("+0.0500"), "0.9 with the average against 0.85 for the trained weights")
    XCTAssertFalse(html.contains("TTA gain"))
  }

  /// Nothing is loaded from anywhere: no URL but data: URIs and the run pages beside it.
  func testTheReport_loadsNothing() throws {
    let (html, _) = try writeReport()
    XCTAssertFalse(html.contains("http://") || html.contains("https://") || html.contains("//cdn"))
    let sources = html.components(separatedBy: "src=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
    XCTAssertFalse(sources.isEmpty)
    XCTAssertTrue(sources.allSatisfy { $0.hasPrefix("data:image/") }, "\(sources.map { $0.prefix(30) })")
    let links = html.components(separatedBy: "href=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    XCTAssertTrue(links.allSatisfy { $0.hasPrefix("run-") && $0.hasSuffix(".html") }, "\(links)")
    XCTAssertTrue(html.contains("Content-Security-Policy"))
  }

  /// The policy runs exactly the one sorting script, named by its hash: no 'unsafe-inline'.
  func testTheContentSecurityPolicy_allowsOnlyTheSortingScriptByItsHash() throws {
    let (html, _) = try writeReport()
    let script = try XCTUnwrap(html.components(separatedBy: "<script>").last?.components(separatedBy: "</script>").first)
    let policy = try XCTUnwrap(html.components(separatedBy: "script-src ").dropFirst().first?.prefix { $0 != "\"" })
    XCTAssertEqual(String(policy), "'sha256-\(SHA256Digest.base64(of: script))'")
    XCTAssertFalse(html.contains("script-src 'unsafe-inline'"))
  }

  /// Report CSVs open in a spreadsheet without running anything: text that a spreadsheet
  /// would take for a formula gets a leading quote; numbers stay numbers.
  func testReportCSVs_areSpreadsheetSafe() throws {
    let table = ReportTable(name: "t", header: ["class", "=score"], rows: [
      [.init("=HYPERLINK(\"http://evil\",\"x\")"), .number(-0.25)], [.init("@SUM(A1)"), .init("+1 cm")], [.init("-"), .init("cat")],
    ])
    XCTAssertEqual(table.csv(), "class,'=score\n\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",-0.2500\n'@SUM(A1),'+1 cm\n'-,cat\n")
  }

  /// The sections a user looks for, with the best run's content.
  func testTheIndex_hasEverySection() throws {
    let (html, folder) = try writeReport()
    for heading in ["Which backbone and strategy win", "Leaderboard", "Learning curves", "Best run", "Most confident mistakes",
                    "First-layer filters", "Dataset and split", "Environment"] {
      XCTAssertTrue(html.contains(heading), heading)
    }
    XCTAssertTrue(html.contains("Best: efficientnet_lite0 · features (run 2)"), "the 0.9 run wins")
    XCTAssertTrue(html.contains("share of row"), "the heat map has a colour legend")
    XCTAssertTrue(html.contains("predicted class") && html.contains("true class"), "the heat map's axes are labelled")
    XCTAssertTrue(html.contains("data:image/png;base64,"), "the filters are drawn")
    XCTAssertTrue(html.contains("data:image/jpeg;base64,"), "mistakes have thumbnails")
    for run in 1...3 { XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run-\(run).html").path)) }
    XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run-4.html").path), "failed runs get no page")
    XCTAssertEqual(html.components(separatedBy: "<div class=\"table-scroll\"><table ").count, html.components(separatedBy: "<table ").count,
                   "every table scrolls inside the page rather than being cut off")
    XCTAssertTrue(html.contains(".table-scroll{overflow-x:auto"))
  }

  /// Every table in a page has its CSV, readable back with the header shown.
  func testEveryTable_hasItsCSV() throws {
    let (_, folder) = try writeReport()
    for page in try FileManager.default.contentsOfDirectory(atPath: folder.path) where page.hasSuffix(".html") {
      let html = try String(contentsOf: folder.appendingPathComponent(page), encoding: .utf8)
      let names = html.components(separatedBy: "data-csv=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
      XCTAssertFalse(names.isEmpty, page)
      for name in names {
        let table = try CSVTable(contentsOf: folder.appendingPathComponent(name))
        XCTAssertFalse(table.header.isEmpty, name)
      }
    }
    let leaderboard = try CSVTable(contentsOf: folder.appendingPathComponent("leaderboard.csv"))
    XCTAssertEqual(leaderboard.rows.map { $0.fields[1] }, ["run 2", "run 3", "run 1"])
    let perClass = try CSVTable(contentsOf: folder.appendingPathComponent("best-per-class.csv"))
    XCTAssertEqual(perClass.rows.map { $0.fields[0] }, StoredSweepFixture.classNames, "class names survive quoting")
  }

  /// A run page says which worker ran the run and how it ended: in a line after one attempt,
  /// in a table of every attempt when its worker was lost and another took it.
  func testARunPage_listsItsAttempts() throws {
    let (_, folder) = try writeReport()
    let attempts = try CSVTable(contentsOf: folder.appendingPathComponent("run-2-attempts.csv"))
    XCTAssertEqual(attempts.header, ["attempt", "worker", "started", "last heard from", "ended", "outcome", "error"])
    XCTAssertEqual(attempts.rows.map { [$0.fields[0], $0.fields[1], $0.fields[5]] }, [["1", "<machine>, process 1", "done"]])
    let page = try String(contentsOf: folder.appendingPathComponent("run-2.html"), encoding: .utf8)
    XCTAssertTrue(page.contains("One attempt, by &lt;machine&gt;, process 1: started "), "one attempt is a line; the worker's name is escaped")
    XCTAssertFalse(page.contains("data-csv=\"run-2-attempts.csv\""))
    let retried = try String(contentsOf: folder.appendingPathComponent("run-1.html"), encoding: .utf8)
    XCTAssertTrue(retried.contains("data-csv=\"run-1-attempts.csv\""), "a run taken twice lists its attempts in a table")
    let rows = try CSVTable(contentsOf: folder.appendingPathComponent("run-1-attempts.csv")).rows
    XCTAssertEqual(rows.map { [$0.fields[1], $0.fields[5]] }, [["lost-host, process 2", "lost"], ["<machine>, process 1", "done"]])
  }

  /// The most confident mistakes come first, and only wrong predictions are listed.
  func testMistakes_areTheSurestWrongPredictions() throws {
    let (_, folder) = try writeReport()
    let mistakes = try CSVTable(contentsOf: folder.appendingPathComponent("best-mistakes.csv"))
    XCTAssertFalse(mistakes.rows.isEmpty)
    XCTAssertTrue(mistakes.rows.allSatisfy { $0.fields[1] != $0.fields[2] })
    let probabilities = mistakes.rows.map { Double($0.fields[3])! }
    XCTAssertEqual(probabilities, probabilities.sorted(by: >))
  }

  func testAnUnknownSweep_isOneClearError() throws {
    XCTAssertThrowsError(try SweepResults.load(from: fixture.store, sweep: 99)) {
      XCTAssertEqual("\($0)", "no sweep with id 99; the database has 1 (hostile <b>sweep</b>)")
    }
  }
}

import Datasets
import Foundation
import Reports
import Training
import XCTest

final class LeaderboardTests: XCTestCase {
  func testRunsAreRankedByValidation_withPublicAndPrivateTestScores() throws {
    let fixture = try StoredSweepFixture()
    defer { fixture.remove() }
    let board = try Leaderboard(store: fixture.store, dataset: "hostile")
    XCTAssertEqual(board.metric, .accuracy)
    XCTAssertEqual(board.entries.map(\.run.id), [2, 3, 1], "runs 2 and 3 tie on accuracy: run order; the failed run is left out")
    // Runs 2 and 3 are wrong on every third image of validation and test.
    let first = try XCTUnwrap(board.entries.first)
    XCTAssertEqual(first.validation, 2.0 / 3, accuracy: 1e-9)
    XCTAssertNotNil(first.publicTest)
    XCTAssertNotNil(first.privateTest)
    let csv = try CSVTable(data: Data(board.table().csv().utf8), path: "hostile.csv")
    XCTAssertEqual(csv.header.prefix(5), ["rank", "run", "sweep", "backbone", "strategy"])
    XCTAssertEqual(csv.rows.map { $0.fields[0] }, ["1", "2", "3"])
    XCTAssertEqual(csv.rows[0].fields[2], "hostile <b>sweep</b>")
  }

  /// Log loss ranks smaller first; ties keep run order, so the board is stable.
  func testLogLoss_ranksSmallestFirst_andTheOrderIsStable() throws {
    let fixture = try StoredSweepFixture()
    defer { fixture.remove() }
    let board = try Leaderboard(store: fixture.store, dataset: "hostile", metric: .logLoss)
    let losses = board.entries.map(\.validation)
    XCTAssertEqual(losses, losses.sorted())
    XCTAssertEqual(try Leaderboard(store: fixture.store, dataset: "hostile", metric: .logLoss).entries.map(\.run.id), board.entries.map(\.run.id))
    XCTAssertTrue(board.markdown().contains("| rank | run | sweep |"))
  }

  func testAnUnknownDataset_namesTheKnownOnes() throws {
    let fixture = try StoredSweepFixture()
    defer { fixture.remove() }
    XCTAssertThrowsError(try Leaderboard(store: fixture.store, dataset: "caltech")) {
      XCTAssertEqual("\($0)", "no sweeps on a dataset called caltech; known: hostile")
    }
  }
}

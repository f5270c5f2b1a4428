import ArgumentParser
import Engine
import Foundation
import Reports
import Training

extension Podium {
  /// `podium leaderboard [--dataset NAME] [--format md|csv]`.
  struct LeaderboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "leaderboard",
      abstract: "Rank every finished run on a dataset; writes leaderboards/<dataset>.md and .csv and prints one of them.")

    enum Format: String, ExpressibleByArgument { case md, csv }

    @Option(help: "The dataset's name (default: every dataset with sweeps).") var dataset: String?
    @Option(help: "What to print: md or csv (both files are written).") var format: Format = .md
    @Option(help: "Rank by this metric (default: the latest sweep's).") var metric: MetricName?
    @Option(help: "The results database.") var db = "podium.sqlite"
    @Option(help: "Folder for the leaderboard files.") var out = "leaderboards"

    func run() throws {
      for written in try Self.write(dataset: dataset, metric: metric, db: db, out: out) {
        print(format == .md ? written.board.markdown() : written.board.table().csv())
        printToStandardError("leaderboard written to \(written.markdown.path) and \(written.csv.path)")
      }
    }

    /// Writes the Markdown and CSV leaderboard of each dataset.
    static func write(dataset: String?, metric: MetricName?, db: String, out: String) throws -> [(board: Leaderboard, markdown: URL, csv: URL)] {
      let store = try openStore(db)
      let names = try dataset.map { [$0] } ?? store.datasetNames()
      guard !names.isEmpty else { throw ValidationError("the results database has no sweep yet") }
      return try names.map { name in
        let board = try Leaderboard(store: store, dataset: name, metric: metric)
        let folder = URL(fileURLWithPath: out)
        let (markdown, csv) = (folder.appendingPathComponent("\(safeFileName(name)).md"), folder.appendingPathComponent("\(safeFileName(name)).csv"))
        try AtomicFile.write(board.markdown(), to: markdown)
        try AtomicFile.write(board.table().csv(), to: csv)
        return (board, markdown, csv)
      }
    }
  }
}

import ArgumentParser
import Foundation
import Reports
import ResultsStore
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
      let store = try openMerged(db)
      for written in try Leaderboard.writeFiles(store: store, dataset: dataset, metric: metric, folder: URL(fileURLWithPath: out)) {
        print(format == .md ? written.board.markdown() : written.board.table().csv())
        printToStandardError("leaderboard written to \(written.markdown.path) and \(written.csv.path)")
      }
    }
  }
}

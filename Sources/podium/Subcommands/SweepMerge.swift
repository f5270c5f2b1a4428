import ArgumentParser
import Foundation
import ResultsStore
import Sweeps

extension Podium.Sweep {
  /// `podium sweep merge [--db F] [--shards DIR ...]`.
  struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Fold the shards of a sweep's cluster tasks into the main database (running it again changes nothing).",
      discussion: """
        Without --shards, merges the shard folders that `podium sweep slurm` and `sweep k8s` recorded in the database. \
        `sweep status`, `report`, `leaderboard` and `submit` merge them first on their own.
        """)

    @Option(help: "The main results database (created if missing).") var db = "podium.sqlite"
    @Option(help: "A folder of task-I.sqlite shards (repeatable); remembered for later merges.") var shards: [String] = []

    func run() throws {
      let store = try ResultsStore(path: db)
      let files = shards.flatMap { ShardLayout.shardFiles(in: URL(fileURLWithPath: $0)) }
      if !shards.isEmpty && files.isEmpty { throw ValidationError("no task-I.sqlite shards in \(shards.joined(separator: ", "))") }
      var summary = try shards.isEmpty ? store.mergeRecordedShards() : store.merge(shards: files)
      if !shards.isEmpty {
        for folder in shards {
          for sweep in try store.sweeps() where folder.hasSuffix("/\(sweep.name)/shards") || folder.hasSuffix("/\(sweep.name)/shards/") {
            try store.recordShardFolder(URL(fileURLWithPath: folder).standardizedFileURL.path, sweep: sweep.id)
          }
        }
      }
      for line in summary.skipped { printToStandardError(line) }
      summary.skipped = []
      print("merged \(summary.shards) shards into \(db): \(summary.runsUpdated) runs updated, \(summary.attemptsAdded) attempts added")
    }
  }
}

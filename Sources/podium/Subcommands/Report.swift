import ArgumentParser
import Foundation
import Reports
import ResultsStore

extension Podium {
  /// `podium report [--sweep ID] [--db FILE] [--out DIR]`.
  struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a sweep's self-contained HTML report and a CSV of every table in it.",
      discussion: "The report goes to DIR/<sweep name>/index.html (DIR defaults to reports), with a page per finished run.")

    @Option(help: "The sweep's id (default: the most recent sweep).") var sweep: Int64?
    @Option(help: "The results database.") var db = "podium.sqlite"
    @Option(help: "Folder that receives <sweep name>/index.html.") var out = "reports"

    func run() throws {
      let index = try SweepReport.write(store: try openMerged(db), sweep: sweep, folder: URL(fileURLWithPath: out),
                                        version: PodiumVersion.current)
      print("report written to \(index.path)")
    }
  }
}

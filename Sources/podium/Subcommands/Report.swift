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
      let index = try Self.write(sweep: sweep, db: db, out: out)
      print("report written to \(index.path)")
    }

    /// Writes the report of `sweep` (or the latest) and returns its index page.
    static func write(sweep: Int64?, db: String, out: String) throws -> URL {
      let store = try openStore(db)
      let results = try SweepResults.load(from: store, sweep: try sweep ?? latestSweep(store))
      var report = SweepReport(results: results, store: store)
      report.version = PodiumVersion.current
      return try report.write(to: URL(fileURLWithPath: out).appendingPathComponent(safeFileName(results.sweep.name)))
    }
  }
}

/// Opens an existing results database; a missing file is one clear line.
func openStore(_ path: String) throws -> ResultsStore {
  guard FileManager.default.fileExists(atPath: path) else {
    throw ValidationError("no results database at \(path): run `podium sweep run SPEC.yaml` or `podium demo` first")
  }
  return try ResultsStore(path: path)
}

/// The id of the most recently planned sweep.
func latestSweep(_ store: ResultsStore) throws -> Int64 {
  guard let last = try store.sweeps().last else { throw ValidationError("the results database has no sweep yet") }
  return last.id
}

/// A name usable as one path component: anything but letters, digits, `-`, `_` and `.`
/// becomes `_`, and it never starts with a dot.
func safeFileName(_ name: String) -> String {
  let cleaned = String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
  return cleaned.isEmpty || cleaned.hasPrefix(".") ? "_" + cleaned : cleaned
}

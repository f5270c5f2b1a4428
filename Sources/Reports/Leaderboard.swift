import Engine
import Foundation
import ResultsStore
import Sweeps
import Training

/// Every finished run on one dataset, across sweeps, ranked by a metric on validation, with
/// its test score split into public and private parts as a Kaggle leaderboard would show it.
/// Under cross-validation an entry is a configuration (``SweepModel``), ranked by its CV
/// score — the metric over its out-of-fold predictions — shown with the mean ± standard
/// deviation over folds, and its test scores are those of its fold models' mean.
/// The order is stable: validation (or CV), then public test, then run id.
public struct Leaderboard {
  public struct Entry: Sendable {
    /// The run, or a cross-validated configuration's first fold run.
    public var run: StoredRun
    /// `3`, or `3–7 (5 folds)`.
    public var runs: String
    public var sweep: String
    /// The metric on validation, or the CV score.
    public var validation: Double
    /// The fold scores' mean and standard deviation under cross-validation.
    public var folds: (mean: Double, std: Double)?
    public var publicTest: Double?
    public var privateTest: Double?
    /// The 95% bootstrap interval of the metric on the whole test split.
    public var testInterval: String?
    /// Wall-clock seconds of the run, or of all the configuration's fold runs.
    public var seconds: Double?
  }

  public var dataset: String
  public var metric: MetricName
  public var entries: [Entry]

  /// Builds the leaderboard of `dataset` from `store`. Scores are computed from the stored
  /// predictions, so sweeps with different metrics rank on one (default: the latest sweep's).
  ///
  /// - Throws: ``ReportError`` naming the known datasets when there is none of that name.
  public init(store: ResultsStore, dataset: String, metric: MetricName? = nil, publicFraction: Double = 0.3, seed: UInt64 = 0) throws {
    let sweepIDs = try store.sweepIDs(dataset: dataset)
    guard let latest = sweepIDs.last, let latestSweep = try store.sweep(id: latest) else {
      throw ReportError("no sweeps on a dataset called \(dataset); known: \(try store.datasetNames().joined(separator: ", "))")
    }
    let metric = metric ?? latestSweep.metric
    var entries: [Entry] = []
    for id in sweepIDs {
      guard let sweep = try store.sweep(id: id) else { continue }
      for model in try SweepModel.ranked(sweep: id, in: store, metric: metric) {
        let test = try model.predictions(.test, in: store)
        let (publicTest, privateTest) = PublicPrivateSplit.scores(test, metric: metric, fraction: publicFraction, seed: seed)
        entries.append(Entry(run: model.runs[0], runs: model.runIDs, sweep: sweep.name, validation: model.score, folds: model.foldSpread,
                             publicTest: publicTest, privateTest: privateTest,
                             testInterval: TestBootstrap.interval(test, metric: metric).map(Findings.range), seconds: model.seconds))
      }
    }
    (self.dataset, self.metric) = (dataset, metric)
    self.entries = entries.sorted { a, b in
      if a.validation != b.validation { return metric.isBetter(a.validation, than: b.validation) }
      if let x = a.publicTest, let y = b.publicTest, x != y { return metric.isBetter(x, than: y) }
      return a.run.id < b.run.id
    }
  }

  static func value(_ records: [PredictionRecord], _ metric: MetricName) -> Double? {
    let labelled = records.filter { $0.label != nil }
    guard let classes = labelled.first?.probabilities.count, labelled.allSatisfy({ $0.probabilities.count == classes }) else { return nil }
    return ClassificationMetrics(probabilities: labelled.flatMap(\.probabilities), labels: labelled.map { $0.label! }, classes: classes)
      .value(metric)
  }

  /// The leaderboard as a table (its CSV, and the rows of the Markdown).
  public func table() -> ReportTable {
    let header = ["rank", "run", "sweep", "backbone", "strategy"] + KeyHyperparameters.names
      + ["validation or CV \(metric.rawValue)", "folds mean ± std", "public test", "private test", "test 95% interval", "seconds"]
    return ReportTable(name: dataset, header: header, rows: entries.enumerated().map { rank, entry in
      [.integer(rank + 1), .init(entry.runs, sortKey: Double(entry.run.id)), .init(entry.sweep), .init(entry.run.backbone),
       .init(entry.run.strategy)]
        + KeyHyperparameters.values(entry.run.spec).map { ReportTable.Cell($0) }
        + [.number(entry.validation), .init(entry.folds.map(Self.spread) ?? ""), .number(entry.publicTest), .number(entry.privateTest),
           .init(entry.testInterval ?? ""), .number(entry.seconds, digits: 1)]
    })
  }

  /// `0.8123 ± 0.0210`.
  static func spread(_ folds: (mean: Double, std: Double)) -> String {
    String(format: "%.4f ± %.4f", folds.mean, folds.std)
  }

  /// The leaderboard as a Markdown document.
  public func markdown(publicFraction: Double = 0.3) -> String {
    let table = table()
    let escape = { (text: String) in text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
    var lines = ["# Leaderboard: \(escape(dataset))", "",
                 "Ranked by validation \(metric.rawValue) (for a cross-validated configuration, its CV score: the metric over all "
                   + "its out-of-fold predictions); the labelled test split is divided into a public "
                   + "\(Int(publicFraction * 100))% and a private rest, as on Kaggle. Written by `podium leaderboard`.", ""]
    lines.append("| " + table.header.map(escape).joined(separator: " | ") + " |")
    lines.append("|" + table.header.map { _ in "---|" }.joined())
    lines += table.rows.map { "| " + $0.map { escape($0.text) }.joined(separator: " | ") + " |" }
    return lines.joined(separator: "\n") + "\n"
  }
}

extension Leaderboard {
  /// Writes `<folder>/<dataset>.md` and `.csv` for `dataset`, or for every dataset with
  /// sweeps when nil, each atomically, and returns the boards with their files.
  ///
  /// - Throws: ``ReportError`` when the store has no sweep.
  public static func writeFiles(store: ResultsStore, dataset: String?, metric: MetricName?, folder: URL) throws
    -> [(board: Leaderboard, markdown: URL, csv: URL)]
  {
    let names = try dataset.map { [$0] } ?? store.datasetNames()
    guard !names.isEmpty else { throw ReportError("the results database has no sweep yet") }
    return try names.map { name in
      let board = try Leaderboard(store: store, dataset: name, metric: metric)
      let base = folder.appendingPathComponent(FileNames.safe(name))
      let (markdown, csv) = (base.appendingPathExtension("md"), base.appendingPathExtension("csv"))
      try AtomicFile.write(board.markdown(), to: markdown)
      try AtomicFile.write(board.table().csv(), to: csv)
      return (board, markdown, csv)
    }
  }
}

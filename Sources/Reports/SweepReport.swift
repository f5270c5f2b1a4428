import Datasets
import Engine
import Foundation
import ResultsStore
import Sweeps
import Training

/// A sweep's report: `index.html` (leaderboard, backbone × strategy chart, learning curves,
/// the best run's confusion matrix, per-class accuracy, confident mistakes and filters,
/// dataset, split and environment), a page per finished run, and a CSV for every table.
/// Every page is self-contained: nothing is loaded from the network or from other files.
public struct SweepReport {
  public let results: SweepResults
  public let store: ResultsStore
  /// Podium's version, printed in the footer.
  public var version = "unknown"
  /// Seconds after which the index page reloads itself (`podium report --watch` while the
  /// sweep runs); nil for a page that stays as it is.
  public var refresh: Int?
  /// The runs grouped by configuration (seeds together).
  let configurations: ConfigurationSections

  public init(results: SweepResults, store: ResultsStore) {
    (self.results, self.store) = (results, store)
    configurations = ConfigurationSections(results: results)
  }

  /// Writes the report into `folder` (created if needed), each file atomically.
  ///
  /// - Returns: the index page.
  @discardableResult
  public func write(to folder: URL) throws -> URL {
    var tables: [ReportTable] = []
    let index = try indexBody(tables: &tables)
    try AtomicFile.write(ReportPage.html(title: "Podium report: \(results.sweep.name)", body: index, refresh: refresh),
                         to: folder.appendingPathComponent("index.html"))
    for run in results.ranked {
      try AtomicFile.write(ReportPage.html(title: "Run \(run.id) of \(results.sweep.name)", body: try runBody(run, tables: &tables)),
                           to: folder.appendingPathComponent("run-\(run.id).html"))
    }
    for table in tables { try AtomicFile.write(table.csv(), to: folder.appendingPathComponent("\(table.name).csv")) }
    return folder.appendingPathComponent("index.html")
  }

  // MARK: - Index page

  private func indexBody(tables: inout [ReportTable]) throws -> String {
    let sweep = results.sweep
    var body = HTML.element("h1", "Sweep \(sweep.name)")
    body += "<p class=\"sub\">\(HTML.escape(subtitle()))</p>"
    body += "<p class=\"headline\">\(HTML.escape(Findings.headline(results)))</p>"
    body += "<ul class=\"findings\">" + Findings.points(results).map { HTML.element("li", $0) }.joined() + "</ul>"

    let comparison = backboneStrategyTable()
    body += "<h2>Which backbone and strategy win</h2>" + comparisonChart().html() + comparison.html(caption: results.crossValidated.isEmpty && !configurations.applies ? "Best run per backbone and strategy" : "Best configuration per backbone and strategy")
    if let folds = results.dataset?.crossValidation?.folds {
      let configurations = crossValidationTable()
      body += "<h2>Cross-validation: configurations by CV score</h2><p>Each configuration trained \(folds) times, once per fold held out; "
        + "its CV \(HTML.escape(sweep.metric.rawValue)) is the metric over all its out-of-fold predictions (every training image "
        + "predicted once, by the fold model that did not train on it), beside the mean ± standard deviation of the fold scores. "
        + "Test scores are those of the mean of its fold models. A configuration appears once all its folds have finished.</p>"
      body += configurations.html() + crossValidationScatter().html()
      tables.append(configurations)
    }
    let leaderboard = leaderboardTable(), unfinished = unfinishedTable()
    if configurations.applies {
      let table = configurations.table()
      body += "<h2>Leaderboard of configurations</h2><p>Runs that differ only in their seed are one configuration, ranked by the mean "
        + "of their scores, shown with the standard deviation over seeds and their number. Open a configuration to see its runs.</p>"
      body += table.html() + configurations.details()
      body += "<details class=\"every-run\"><summary>Every finished run (\(results.ranked.count)), best first</summary>\(leaderboard.html())</details>"
      tables.append(table)
    } else {
      body += "<h2>Leaderboard</h2><p>Finished runs, best first by validation \(HTML.escape(sweep.metric.rawValue)). Click a column to sort.</p>"
      body += "<div class=\"scroll\">\(leaderboard.html())</div>"
    }
    if !unfinished.rows.isEmpty { body += unfinished.html(caption: "Runs that did not finish") }
    let effects = HyperparameterEffects(results: results)
    if !effects.keys.isEmpty, effects.points.count >= 3 {
      let importance = effects.importance()
      body += "<h2>What each hyperparameter does</h2><p>Each hyperparameter that varies, against the sweep's metric: a point per run, "
        + "the mean per value joined by a line. The table gives each one's share of the metric's variance — the main effects of a "
        + "functional ANOVA (Hutter, Hoos and Leyton-Brown, ICML 2014) computed on the runs themselves: the variance of the mean per value "
        + "over the total (numeric keys with more than ten values in five bins), then what the keys do together and what the seeds alone move.</p>"
      body += "<div class=\"effects\">" + effects.keys.map { "<figure>\(effects.chart($0))</figure>" }.joined() + "</div>"
      body += importance.html(caption: "Share of the metric's variance")
      body += "<h3>Every configuration across the varying hyperparameters</h3>" + effects.parallelCoordinates(configurations.configurations)
      tables.append(importance)
    }
    let curves = allCurves()
    body += "<h2>Learning curves</h2>" + curves.html
    tables += [comparison, leaderboard, unfinished, curves.table]
    if let best = results.best {
      let sections = RunSections(run: best, results: results, store: store, prefix: "best-")
      let confusion = try sections.confusion(), mistakes = try sections.mistakes()
      body += "<h2>Best run: <a href=\"run-\(best.id).html\">run \(best.id)</a> (\(HTML.escape(best.backbone)) · \(HTML.escape(best.strategy)))</h2>"
      body += confusion.html + "<h2>Most confident mistakes</h2>" + mistakes.html
      body += "<h2>First-layer filters of the best run</h2>" + (try sections.filters())
      tables += confusion.tables + [mistakes.table]
    }
    let dataset = datasetTable()
    body += "<h2>Dataset and split</h2>" + datasetSummary() + (dataset.rows.isEmpty ? "" : dataset.html(caption: "Images per class and subset"))
    body += "<h2>Environment</h2>" + environment()
    tables.append(dataset)
    return body + footer()
  }

  private func subtitle() -> String {
    let counts = Dictionary(grouping: results.runs, by: \.status).mapValues(\.count)
    let status = RunStatus.summaryOrder.compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }.joined(separator: ", ")
    let dataset = results.dataset.map { "\($0.name) (\($0.adapter), \($0.classNames.count) classes)" } ?? "dataset not recorded"
    return "\(dataset) · metric: \(results.sweep.metric.rawValue) · \(results.runs.count) runs: \(status)"
  }

  /// What the comparison ranks by: validation, or CV under cross-validation; the mean over
  /// seeds when they repeat.
  private var scoreName: String {
    (configurations.applies ? "mean " : "") + (results.crossValidated.isEmpty ? "validation " : "CV ") + results.sweep.metric.rawValue
  }

  private func comparisonChart() -> BarChart {
    let (backbones, strategies, best) = SweepContender.bestByBackboneAndStrategy(results, configurations.contenders)
    return BarChart(title: "Best \(scoreName) per backbone and strategy", categories: backbones, series: strategies,
                    values: backbones.map { b in strategies.map { s in best["\(b)/\(s)"]?.contender.score } },
                    xLabel: "backbone", yLabel: "best \(scoreName)")
  }

  private func backboneStrategyTable() -> ReportTable {
    let (backbones, strategies, best) = SweepContender.bestByBackboneAndStrategy(results, configurations.contenders)
    let metric = results.sweep.metric.rawValue, folded = !results.crossValidated.isEmpty || configurations.applies
    var rows: [[ReportTable.Cell]] = []
    for backbone in backbones {
      for strategy in strategies {
        guard let (top, count) = best["\(backbone)/\(strategy)"] else { continue }
        rows.append([.init(backbone), .init(strategy), .init(top.name, sortKey: Double(top.id), link: "run-\(top.id).html"),
                     .number(top.score), .number(top.testScore), .integer(count), .number(top.seconds, digits: 1)])
      }
    }
    return ReportTable(name: "backbone-strategy", header: ["backbone", "strategy", folded ? "best configuration" : "best run", scoreName,
                                                           (configurations.applies ? "mean test " : "test ") + metric,
                                                           folded ? "configurations" : "runs", "seconds"], rows: rows)
  }

  private func leaderboardTable() -> ReportTable {
    let metric = results.sweep.metric.rawValue
    let header = ["rank", "run", "backbone", "strategy", "validation \(metric)", "test \(metric)", "test 95% interval", "test logloss", "seconds",
                  "status", "epochs run"] + KeyHyperparameters.names
    let rows = results.ranked.enumerated().map { rank, run -> [ReportTable.Cell] in
      let fold = run.spec?.fold.map { " · fold \($0 + 1)" } ?? ""
      return [.integer(rank + 1), .init("run \(run.id)\(fold)", sortKey: Double(run.id), link: "run-\(run.id).html"), .init(run.backbone), .init(run.strategy),
       .number(run.validationMetric), .number(run.testMetric),
       .init(TestBootstrap.interval(results.testPredictions[run.id] ?? [], metric: results.sweep.metric).map(Findings.range) ?? ""),
       .number(run.testMetric == nil ? nil : run.metrics?.logLoss),
       .number(run.seconds, digits: 1), .init(run.status.rawValue), .integer(results.epochs[run.id]?.count ?? 0)]
        + KeyHyperparameters.values(run.spec).map { ReportTable.Cell($0, sortKey: Double($0)) }
    }
    // What test-time augmentation (on test, else validation) and weight averaging (on
    // validation: the averaged model's plain view against the trained weights' best epoch)
    // bought each run that used them; a column only when some run did.
    let gains: [(name: String, gain: (StoredRun) -> Double?)] = [
      ("TTA gain (test, else validation)", { run in
        run.plainTestMetric.flatMap { plain in run.testMetric.map { $0 - plain } }
          ?? run.plainValidationMetric.flatMap { plain in run.validationMetric.map { $0 - plain } }
      }),
      ("averaging gain (validation)", { run in
        run.unaveragedValidationMetric.flatMap { trained in (run.plainValidationMetric ?? run.validationMetric).map { $0 - trained } }
      }),
    ].filter { column in results.ranked.contains { column.gain($0) != nil } }
    let cells = results.ranked.map { run in
      gains.map { column in column.gain(run).map { ReportTable.Cell(String(format: "%+.4f", $0), sortKey: $0) } ?? "" }
    }
    return ReportTable(name: "leaderboard", header: header + gains.map(\.name), rows: zip(rows, cells).map { $0 + $1 })
  }

  /// Under cross-validation: each configuration's CV score, fold spread, and its fold-mean
  /// model's public and private test scores.
  private func crossValidationTable() -> ReportTable {
    let metric = results.sweep.metric
    let rows = results.crossValidated.enumerated().map { rank, entry -> [ReportTable.Cell] in
      let (model, test) = entry
      let (publicTest, privateTest) = PublicPrivateSplit.scores(test, metric: metric)
      return [.integer(rank + 1), .init(model.name, sortKey: Double(model.id), link: "run-\(model.id).html"),
              .init(model.runs[0].backbone), .init(model.runs[0].strategy), .number(model.score),
              .init(model.foldSpread.map(Leaderboard.spread) ?? ""), .number(publicTest), .number(privateTest),
              .init(TestBootstrap.interval(test, metric: metric).map(Findings.range) ?? "")]
        + KeyHyperparameters.values(model.spec).map { ReportTable.Cell($0, sortKey: Double($0)) }
    }
    return ReportTable(name: "cross-validation", header: ["rank", "configuration", "backbone", "strategy", "CV \(metric.rawValue)",
                                                          "folds mean ± std", "public test", "private test", "test 95% interval"]
                         + KeyHyperparameters.names, rows: rows)
  }

  /// Each configuration's CV score against its public test score: points near the diagonal
  /// mean the public leaderboard agrees with cross-validation.
  private func crossValidationScatter() -> ScatterChart {
    let metric = results.sweep.metric.rawValue
    let points = results.crossValidated.compactMap { model, test -> ScatterChart.Point? in
      PublicPrivateSplit.scores(test, metric: results.sweep.metric).public.map {
        ScatterChart.Point(name: "\(model.name) \(model.runs[0].backbone) · \(model.runs[0].strategy)", x: model.score, y: $0)
      }
    }
    return ScatterChart(title: "CV \(metric) against public test \(metric)", points: points, xLabel: "CV \(metric) (out of fold)",
                        yLabel: "public test \(metric)")
  }

  private func unfinishedTable() -> ReportTable {
    let rows = results.runs.filter { $0.status == .failed || $0.status.isOpen }.map { run -> [ReportTable.Cell] in
      [.integer(Int(run.id)), .init(run.status.rawValue), .init(run.backbone), .init(run.strategy), .init(run.error ?? "")]
    }
    return ReportTable(name: "unfinished", header: ["run", "status", "backbone", "strategy", "error"], rows: rows)
  }

  /// How many curves keep a colour; the rest are thin grey lines.
  static let colouredCurves = 8

  /// The validation metric and loss per epoch: one line per run, or per configuration (the
  /// mean over its runs, folds and seeds) when the sweep repeats settings; the best
  /// ``colouredCurves`` in colour, the rest grey.
  private func allCurves() -> (html: String, table: ReportTable) {
    let runs = results.ranked
    let metric = results.sweep.metric.rawValue
    let lines: [(name: String, runs: [Int64])] = configurations.applies
      ? configurations.configurations.map { ($0.label, $0.members.flatMap(\.runIDs)) }
      : runs.map { ("run \($0.id) \($0.backbone) · \($0.strategy)", [$0.id]) }
    func series(_ value: @escaping (EpochRecord) -> Double) -> [LineChart.Series] {
      lines.enumerated().map { index, line in
        LineChart.Series(name: line.name, colour: index, muted: index >= Self.colouredCurves, points: meanCurve(line.runs, value))
      }
    }
    let score = LineChart(title: "Validation \(metric) per epoch", series: series(\.validationMetric), xLabel: "epoch", yLabel: "validation \(metric)")
    let loss = LineChart(title: "Validation loss per epoch", series: series(\.validationLoss), xLabel: "epoch", yLabel: "validation loss")
    var rows: [[ReportTable.Cell]] = []
    for run in runs {
      for e in results.epochs[run.id] ?? [] {
        rows.append([.integer(Int(run.id)), .init(run.backbone), .init(run.strategy), .integer(e.epoch + 1), .number(e.trainLoss),
                     .number(e.trainMetric), .number(e.validationLoss), .number(e.validationMetric)])
      }
    }
    let table = ReportTable(name: "curves", header: ["run", "backbone", "strategy", "epoch", "train_loss", "train_accuracy", "validation_loss",
                                                     "validation_\(metric)"], rows: rows)
    let grouped = configurations.applies ? "Each line is a configuration's mean over its runs. " : ""
    let note = "<p>\(grouped)The best \(Self.colouredCurves) in colour, the rest in grey. Each run's own page shows its training curves "
      + "beside these (train dashed, validation solid).</p>"
    return (note + "<div class=\"pair\"><figure>\(score.html())</figure><figure>\(loss.html())</figure></div>", table)
  }

  /// Epoch by epoch, the mean of `value` over the runs that reached that epoch.
  private func meanCurve(_ runs: [Int64], _ value: (EpochRecord) -> Double) -> [(x: Double, y: Double)] {
    var sums: [Int: (total: Double, count: Int)] = [:]
    for run in runs {
      for epoch in results.epochs[run] ?? [] where value(epoch).isFinite {
        sums[epoch.epoch, default: (0, 0)].total += value(epoch)
        sums[epoch.epoch, default: (0, 0)].count += 1
      }
    }
    return sums.keys.sorted().map { (Double($0 + 1), sums[$0]!.total / Double(sums[$0]!.count)) }
  }

  private func datasetTable() -> ReportTable {
    guard let dataset = results.dataset else { return ReportTable(name: "dataset", header: [], rows: []) }
    let counts = dataset.counts()
    let subsets = Subset.labelled
    return ReportTable(name: "dataset", header: ["class"] + subsets.map(\.rawValue), rows: dataset.classNames.enumerated().map { index, name in
      [.init(name)] + subsets.map { .integer(counts[$0]?[index] ?? 0) }
    })
  }

  private func datasetSummary() -> String {
    guard let dataset = results.dataset else { return "<p class=\"note\">This sweep was stored without its dataset.</p>" }
    let totals = dataset.counts().mapValues { $0.reduce(0, +) }
    let items: [(String, String)] = [
      ("name", dataset.name), ("adapter", dataset.adapter), ("root", dataset.root), ("classes", String(dataset.classNames.count)),
      ("split", dataset.split), ("split seed", String(dataset.seed)),
      ("images", Subset.labelled.map { "\(totals[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")),
    ]
    return HTML.definitionList(items)
  }

  private func environment() -> String {
    let started = results.runs.compactMap(\.startedAt).min(), finished = results.runs.compactMap(\.finishedAt).max()
    let compute = results.runs.compactMap(\.seconds).reduce(0, +)
    let items: [(String, String)] = [
      ("Podium", Set(results.runs.compactMap(\.version)).sorted().joined(separator: ", ")),
      ("machine", Set(results.runs.compactMap(\.machine)).sorted().joined(separator: ", ")),
      ("CPU", ProcessInfo.processInfo.processorCount.description + " cores (report machine)"),
      ("sweep planned", RunSections.timestamp(results.sweep.createdAt)),
      ("first run started", started.map(RunSections.timestamp) ?? "–"), ("last run finished", finished.map(RunSections.timestamp) ?? "–"),
      ("time in runs", String(format: "%.1f s", compute)),
    ]
    return HTML.definitionList(items)
      + "<details><summary>Sweep spec</summary><pre>\(HTML.escape(results.sweep.spec))</pre></details>"
  }

  private func footer() -> String {
    "<footer>Written by Podium \(HTML.escape(version)) on \(HTML.escape(RunSections.timestamp(Date()))). Self-contained: no file or network request is needed to view it.</footer>"
  }

  // MARK: - Run pages

  private func runBody(_ run: StoredRun, tables: inout [ReportTable]) throws -> String {
    let sections = RunSections(run: run, results: results, store: store, prefix: "run-\(run.id)-")
    let settings = sections.settings(), curves = sections.curves(), confusion = try sections.confusion(), mistakes = try sections.mistakes()
    var body = "<p><a href=\"index.html\">← sweep \(HTML.escape(results.sweep.name))</a></p>"
    body += HTML.element("h1", "Run \(run.id): \(run.backbone) · \(run.strategy)")
    body += "<p class=\"headline\">validation \(HTML.escape(results.sweep.metric.rawValue)) \(Findings.format(run.validationMetric))"
      + (run.testMetric.map { ", test \(Findings.format($0))" } ?? "") + "</p>"
    body += "<h2>Learning curves</h2>" + curves.html + "<h2>Confusion matrix</h2>" + confusion.html
    body += "<h2>Most confident mistakes</h2>" + mistakes.html + "<h2>First-layer filters</h2>" + (try sections.filters())
    let attempts = try sections.attempts()
    body += "<h2>Hyperparameters and environment</h2>" + settings.html()
    body += "<h2>Attempts</h2>" + attempts.html
    tables += [settings, attempts.table, curves.table] + confusion.tables + [mistakes.table]
    return body + footer()
  }
}

extension SweepReport {
  /// Writes the report of `sweep` (nil: the most recent) to `<folder>/<sweep name>/` and
  /// returns its index page.
  public static func write(store: ResultsStore, sweep: Int64?, folder: URL, version: String, refresh: Int? = nil) throws -> URL {
    let results = try SweepResults.load(from: store, sweep: try sweep ?? store.latestSweepID())
    var report = SweepReport(results: results, store: store)
    (report.version, report.refresh) = (version, refresh)
    return try report.write(to: folder.appendingPathComponent(FileNames.safe(results.sweep.name)))
  }
}

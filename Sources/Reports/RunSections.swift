import Datasets
import Foundation
import ResultsStore
import Sweeps
import Training

/// The parts of a report about one run: its learning curves, confusion heat map, per-class
/// accuracy, most-confused pairs, most confident mistakes and first-layer filters. Each part
/// is HTML; the tables are also returned for their CSVs.
struct RunSections {
  let run: StoredRun
  let results: SweepResults
  let store: ResultsStore
  /// CSV names are prefixed with this (`best-` on the index page, `run-7-` on a run page).
  let prefix: String

  /// Learning curves: loss (train dashed, validation solid) and the metric, per epoch.
  func curves() -> (html: String, table: ReportTable) {
    let epochs = results.epochs[run.id] ?? []
    let metric = results.sweep.metric.rawValue
    let loss = LineChart(
      title: "Run \(run.id) loss per epoch",
      series: [.init(name: "train loss", colour: 0, dashed: true, points: epochs.map { (Double($0.epoch + 1), $0.trainLoss) }),
               .init(name: "validation loss", colour: 0, points: epochs.map { (Double($0.epoch + 1), $0.validationLoss) })],
      xLabel: "epoch", yLabel: "cross-entropy loss")
    let score = LineChart(
      title: "Run \(run.id) \(metric) per epoch",
      series: [.init(name: "train accuracy", colour: 1, dashed: true, points: epochs.compactMap { e in e.trainMetric.map { (Double(e.epoch + 1), $0) } }),
               .init(name: "validation \(metric)", colour: 1, points: epochs.map { (Double($0.epoch + 1), $0.validationMetric) })],
      xLabel: "epoch", yLabel: metric)
    let table = ReportTable(
      name: "\(prefix)curves", header: ["epoch", "train_loss", "train_accuracy", "validation_loss", "validation_\(metric)", "seconds"],
      rows: epochs.map { [.integer($0.epoch + 1), .number($0.trainLoss), .number($0.trainMetric), .number($0.validationLoss),
                          .number($0.validationMetric), .number($0.seconds, digits: 2)] })
    return ("<div class=\"pair\"><figure>\(loss.html())</figure><figure>\(score.html())</figure></div>", table)
  }

  /// The confusion matrix of the test split (or validation without one), as a heat map,
  /// with per-class accuracy and the most-confused pairs.
  func confusion() throws -> (html: String, tables: [ReportTable]) {
    let test = try store.confusion(run: run.id, subset: .test)
    let subset: Subset = test == nil ? .validation : .test
    guard let matrix = try test ?? store.confusion(run: run.id, subset: .validation) else {
      return ("<p class=\"note\">This run stored no confusion matrix.</p>", [])
    }
    let names = results.classNames(count: matrix.count)
    let heatMap = ConfusionHeatMap(title: "Confusion matrix of run \(run.id) on \(subset)", matrix: matrix, classNames: names)
    let perClass = perClassTable(matrix, names: names)
    let pairs = ReportTable(
      name: "\(prefix)confused-pairs", header: ["true class", "predicted as", "images", "share of true class"],
      rows: ClassificationMetrics.mostConfused(in: matrix).map { pair in
        let total = Double(max(matrix[pair.actual].reduce(0, +), 1))
        return [.init(names[pair.actual]), .init(names[pair.predicted]), .integer(pair.count), .number(Double(pair.count) / total, digits: 3)]
      })
    let html = "<p>On the <b>\(subset)</b> split (\(matrix.joined().reduce(0, +)) images). Rows are true classes; each cell is shaded by its share of the row.</p>"
      + "<figure class=\"wide\">\(heatMap.html())</figure>"
      + "<div class=\"pair\"><div>\(perClass.html(caption: "Per-class accuracy (\(subset))"))</div>"
      + "<div>\(pairs.rows.isEmpty ? "<p class=\"note\">No confusions.</p>" : pairs.html(caption: "Most-confused pairs"))</div></div>"
    return (html, [perClass, pairs])
  }

  private func perClassTable(_ matrix: [[Int]], names: [String]) -> ReportTable {
    let columns = (0..<matrix.count).map { c in matrix.map { $0[c] }.reduce(0, +) }
    return ReportTable(name: "\(prefix)per-class", header: ["class", "images", "correct", "accuracy", "precision"], rows: matrix.indices.map { c in
      let support = matrix[c].reduce(0, +)
      return [.init(names[c]), .integer(support), .integer(matrix[c][c]),
              .number(support == 0 ? nil : Double(matrix[c][c]) / Double(support), digits: 3),
              .number(columns[c] == 0 ? nil : Double(matrix[c][c]) / Double(columns[c]), digits: 3)]
    })
  }

  /// A wrong prediction: the image, its true class, the predicted one and its probability.
  struct Mistake {
    var record: PredictionRecord
    var label: Int
    var predicted: Int
    var probability: Float
  }

  /// The wrong predictions on `subset`, surest first (ties by image id).
  static func mistakes(in predictions: [PredictionRecord]) -> [Mistake] {
    var mistakes: [Mistake] = []
    for record in predictions {
      guard let label = record.label, let top = record.probabilities.indices.max(by: { record.probabilities[$0] < record.probabilities[$1] }),
        top != label else { continue }
      mistakes.append(Mistake(record: record, label: label, predicted: top, probability: record.probabilities[top]))
    }
    return mistakes.sorted { $0.probability == $1.probability ? $0.record.imageID < $1.record.imageID : $0.probability > $1.probability }
  }

  /// The wrong predictions the model was surest of, with thumbnails.
  func mistakes(limit: Int = 12) throws -> (html: String, table: ReportTable) {
    var subset = Subset.test
    var predictions = try store.predictions(run: run.id, subset: subset)
    if predictions.isEmpty { (subset, predictions) = (.validation, try store.predictions(run: run.id, subset: .validation)) }
    let names = results.classNames(count: predictions.first?.probabilities.count ?? 0)
    let wrong = Array(Self.mistakes(in: predictions).prefix(limit))
    let table = ReportTable(
      name: "\(prefix)mistakes", header: ["image", "true class", "predicted", "probability", "probability of true class"],
      rows: wrong.map { m in
        [.init(m.record.path), .init(names[m.label]), .init(names[m.predicted]), .number(Double(m.probability), digits: 3),
         .number(Double(m.record.probabilities[m.label]), digits: 3)]
      })
    guard !wrong.isEmpty else { return ("<p class=\"note\">No mistakes on the \(subset) split.</p>", table) }
    let root = results.dataset.map { URL(fileURLWithPath: $0.root) }
    let cards = wrong.map { m -> String in
      let uri = root.flatMap { Thumbnail.dataURI(of: $0.appendingPathComponent(m.record.path)) }
      let image = uri.map { "<img src=\"\(HTML.escape($0))\" alt=\"\(HTML.escape(m.record.path))\">" } ?? "<div class=\"missing\">image not found</div>"
      let caption = "true <b>\(HTML.escape(names[m.label]))</b><br>predicted <b>\(HTML.escape(names[m.predicted]))</b> "
        + "(\(String(format: "%.0f", m.probability * 100))%)<br><small>\(HTML.escape(m.record.path))</small>"
      return "<figure class=\"card\">\(image)<figcaption>\(caption)</figcaption></figure>"
    }
    return ("<p>On the <b>\(subset)</b> split, the \(wrong.count) wrong predictions with the highest probability.</p>"
              + "<div class=\"gallery\">\(cards.joined())</div>", table)
  }

  /// The first convolution's filters: from the run's best checkpoint, else the pretrained
  /// weights its frozen trunk kept.
  func filters() throws -> String {
    let artifacts = try store.artifacts(run: run.id)
    for (kind, note) in [(ArtifactKind.checkpoint, "after training"), (.weights, "pretrained, as the frozen trunk kept them")] {
      guard let path = artifacts[kind], FileManager.default.fileExists(atPath: path),
        let (name, size, filters) = try? FilterGrid.firstFilters(in: URL(fileURLWithPath: path)) else { continue }
      let uri = try Thumbnail.dataURI(png: FilterGrid.image(filters: filters, size: size))
      return "<p>\(filters.count) filters of \(HTML.escape(name)) (\(size)×\(size), \(note)); each scaled to its own range.</p>"
        + "<img class=\"filters\" src=\"\(HTML.escape(uri))\" alt=\"first-layer filters of run \(run.id)\">"
    }
    return "<p class=\"note\">No checkpoint with a first convolution was kept for this run.</p>"
  }

  /// The run's hyperparameters and environment.
  func settings() -> ReportTable {
    var rows: [[ReportTable.Cell]] = [["backbone", .init(run.backbone)], ["strategy", .init(run.strategy)], ["status", .init(run.status.rawValue)]]
    if let spec = run.spec {
      rows += Hyperparameter.allCases.filter { ![.backbone, .strategy].contains($0) }.map { key in
        [.init(key.rawValue), .init(key.value(in: spec)?.description ?? "(default)")]
      }
      rows.append(["metric", .init(spec.training.metric.rawValue)])
      if let fold = spec.fold {
        let folds = results.dataset?.crossValidation?.folds
        rows.append(["cross-validation fold", .init("\(fold + 1)\(folds.map { " of \($0)" } ?? "") (validated on the fold it held out)")])
      }
    }
    rows += [["podium version", .init(run.version ?? "")], ["machine", .init(run.machine ?? "")],
             ["started", .init(run.startedAt.map(Self.timestamp) ?? "")], ["finished", .init(run.finishedAt.map(Self.timestamp) ?? "")],
             ["seconds", .number(run.seconds, digits: 1)]]
    if let error = run.error { rows.append(["error", .init(error)]) }
    return ReportTable(name: "\(prefix)settings", header: ["setting", "value"], rows: rows)
  }

  /// Every attempt at the run: which machine and process (or scheduler task) ran it, when,
  /// and how it ended. A run done at its first attempt says so in a line; retries get a table.
  func attempts() throws -> (html: String, table: ReportTable) {
    let attempts = try store.attempts(run: run.id)
    let rows = attempts.map { attempt -> [ReportTable.Cell] in
      [.integer(attempt.attempt), .init(attempt.worker), .init(Self.timestamp(attempt.startedAt)), .init(Self.timestamp(attempt.heartbeatAt)),
       .init(attempt.endedAt.map(Self.timestamp) ?? ""), .init(attempt.outcome.rawValue), .init(attempt.error ?? "")]
    }
    let table = ReportTable(name: "\(prefix)attempts", header: ["attempt", "worker", "started", "last heard from", "ended", "outcome", "error"],
                            rows: rows)
    guard attempts.count == 1, let only = attempts.first else { return (table.html(), table) }
    let ended = only.endedAt.map { ", ended \(Self.timestamp($0))" } ?? ", last heard from \(Self.timestamp(only.heartbeatAt))"
    let line = "One attempt, by \(only.worker): started \(Self.timestamp(only.startedAt))\(ended), \(only.outcome.rawValue)"
      + (only.error.map { ": \($0)" } ?? "") + "."
    return ("<p>\(HTML.escape(line))</p>", table)
  }

  static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: date)
  }
}

import Datasets
import Foundation
import Training

/// What a submission is scored by: a classification metric over its probabilities or labels,
/// or mean average precision at K over ranked labels (`map@3`: up to three labels per row,
/// space-separated, best first; a row scores 1/rank of the true label, 0 when it is absent).
public enum ScoreMetric: Equatable, Sendable, CustomStringConvertible {
  case classification(MetricName)
  case meanAveragePrecision(at: Int)

  /// Parses `accuracy`, `logloss`, `macro-f1`, `mean-class-accuracy` or `map@K`.
  public init?(_ text: String) {
    if text.lowercased().hasPrefix("map@"), let k = Int(text.dropFirst(4)), k >= 1 {
      self = .meanAveragePrecision(at: k)
    } else if let metric = MetricName(rawValue: text) {
      self = .classification(metric)
    } else {
      return nil
    }
  }

  public var description: String {
    switch self {
    case .classification(let metric): return metric.rawValue
    case .meanAveragePrecision(let k): return "map@\(k)"
    }
  }
}

/// A submission's scores as a Kaggle leaderboard shows them: on the public part of the test
/// set and on the private rest.
public struct Score: Sendable {
  public var metric: ScoreMetric
  public var publicScore: Double
  public var privateScore: Double
  public var publicCount: Int
  public var privateCount: Int
  /// True when the answers' `Usage` column chose the public rows, false for a seeded split.
  public var fromUsageColumn: Bool
}

/// Scores a submission CSV against an answers CSV (`id,label[,Usage]`, or the competition's
/// own names: the id column first, then the label column, as `id_code,diagnosis`) as Kaggle does:
/// the submission is validated first (header, unknown, duplicate and missing ids, labels
/// that are not classes, probabilities outside [0, 1]) with each error naming its line;
/// log loss clips probabilities to [1e-15, 1 − 1e-15] and renormalises each row.
///
/// Submissions may give a class (`id,label` with a class from the answers), a probability
/// of class `1` when the answers are 0/1 (Dogs vs Cats Redux), or one probability column
/// per class (`id,<class>,<class>,…`).
public struct Scorer {
  public var metric: ScoreMetric = .classification(.accuracy)
  /// Used when the answers have no `Usage` column.
  public var publicFraction = 0.3
  public var seed: UInt64 = 0

  public init(metric: MetricName = .accuracy, publicFraction: Double = 0.3, seed: UInt64 = 0) {
    self.init(scoring: .classification(metric), publicFraction: publicFraction, seed: seed)
  }

  public init(scoring metric: ScoreMetric, publicFraction: Double = 0.3, seed: UInt64 = 0) {
    (self.metric, self.publicFraction, self.seed) = (metric, publicFraction, seed)
  }

  /// Reads, validates and scores.
  ///
  /// - Throws: ``CSVError`` naming the file and line of the first problem.
  public func score(submission: URL, answers: URL) throws -> Score {
    let key = try AnswerKey(try CSVTable(contentsOf: answers), path: answers.path)
    let table = try CSVTable(contentsOf: submission)
    let publicIDs = key.usage ?? PublicPrivateSplit.publicIDs(key.ids, fraction: publicFraction, seed: seed)
    let scored = key.ids.filter { key.ignored.contains($0) == false }
    let value: ([String]) -> Double
    switch metric {
    case .classification(let metric):
      let rows = try SubmissionRows(table, path: submission.path, key: key)
      value = { ids in
        let probabilities = ids.flatMap { rows.probabilities[$0]! }
        let metrics = ClassificationMetrics(probabilities: probabilities, labels: ids.map { key.labels[$0]! }, classes: key.classes.count)
        return ids.isEmpty ? .nan : metrics.value(metric)
      }
    case .meanAveragePrecision(let k):
      let ranked = try RankedRows(table, path: submission.path, key: key, k: k)
      value = { ids in ids.isEmpty ? .nan : ids.map { ranked.precision(of: $0, truth: key.labels[$0]!) }.reduce(0, +) / Double(ids.count) }
    }
    let (open, hidden) = (scored.filter { publicIDs.contains($0) }, scored.filter { !publicIDs.contains($0) })
    return Score(metric: metric, publicScore: value(open), privateScore: value(hidden), publicCount: open.count, privateCount: hidden.count,
                 fromUsageColumn: key.usage != nil)
  }
}

/// The answers: each id's class index, the classes, and the public rows when a `Usage`
/// column says so.
struct AnswerKey {
  var ids: [String] = []
  var labels: [String: Int] = [:]
  var lines: [String: Int] = [:]
  /// Class names in order (numerically when all are numbers).
  var classes: [String]
  var usage: Set<String>?
  /// Rows marked `Ignored` (Kaggle's unscored rows).
  var ignored: Set<String> = []

  /// The names of the id and label columns (a submission's header repeats them).
  var idName: String, labelName: String

  init(_ table: CSVTable, path: String) throws {
    let header = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
    let usageColumn = header.firstIndex { $0.lowercased() == "usage" }
    let idColumn = header.firstIndex(of: "id") ?? 0
    guard let labelColumn = header.firstIndex(of: "label") ?? header.indices.first(where: { $0 != idColumn && $0 != usageColumn }) else {
      throw CSVError(path: path, line: 1, reason: "needs an id column and a label column; got \(header.joined(separator: ","))")
    }
    (idName, labelName) = (header[idColumn], header[labelColumn])
    let names = Set(table.rows.map { canonical($0.fields[labelColumn]) })
    classes = names.allSatisfy { Double($0) != nil } ? names.sorted { Double($0)! < Double($1)! } : names.sorted()
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    usage = usageColumn.map { _ in [] }
    for row in table.rows {
      let id = row.fields[idColumn].trimmingCharacters(in: .whitespaces)
      if let first = lines[id] { throw CSVError(path: path, line: row.line, reason: "id \(id) appears again (first on line \(first))") }
      (lines[id], labels[id]) = (row.line, index[canonical(row.fields[labelColumn])])
      ids.append(id)
      guard let usageColumn else { continue }
      switch row.fields[usageColumn].trimmingCharacters(in: .whitespaces).lowercased() {
      case "public": usage?.insert(id)
      case "private": break
      case "ignored": ignored.insert(id)
      default: throw CSVError(path: path, line: row.line, reason: "Usage must be Public, Private or Ignored, got \"\(row.fields[usageColumn])\"")
      }
    }
  }

  /// Answers of 0 and 1 only: a submission may give the probability of 1.
  var isBinary: Bool { classes == ["0", "1"] }

  /// Hands each row of a submission to `body` with its id, in file order, after checking
  /// that the id is in the answers and not repeated; then checks that every answer had a row.
  ///
  /// - Throws: ``CSVError`` naming the line (or what `body` throws), or the first id without a row.
  func forEachRow(of table: CSVTable, path: String, _ body: (String, CSVTable.Row) throws -> Void) throws {
    var lines: [String: Int] = [:]
    for row in table.rows {
      let id = row.fields[0].trimmingCharacters(in: .whitespaces)
      guard labels[id] != nil else { throw CSVError(path: path, line: row.line, reason: "id \(id) is not in the answers") }
      if let first = lines[id] { throw CSVError(path: path, line: row.line, reason: "id \(id) appears again (first on line \(first))") }
      lines[id] = row.line
      try body(id, row)
    }
    if let missing = ids.first(where: { lines[$0] == nil }) {
      let others = ids.filter { lines[$0] == nil }.count - 1
      throw CSVError(path: path, line: nil, reason: "no row for id \(missing) (answers line \(self.lines[missing]!))"
                     + (others > 0 ? " and \(others) other id\(others == 1 ? "" : "s")" : ""))
    }
  }
}

/// A validated MAP@K submission: each id's first K labels as class indices, best first. With
/// one true label per id, average precision is 1/position of its first occurrence (a repeated
/// wrong label still takes a position), as Kaggle's `apk`.
struct RankedRows {
  var ranked: [String: [Int]] = [:]

  init(_ table: CSVTable, path: String, key: AnswerKey, k: Int) throws {
    let header = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
    guard header == [key.idName, key.labelName] else {
      throw CSVError(path: path, line: 1, reason: "header must be \(key.idName),\(key.labelName); got \(header.joined(separator: ","))")
    }
    try key.forEachRow(of: table, path: path) { id, row in
      var classes: [Int] = []
      for label in row.fields[1].split(separator: " ").prefix(k) {
        guard let index = key.classes.firstIndex(of: canonical(String(label))) else {
          throw CSVError(path: path, line: row.line, reason: "label \"\(label)\" is not one of the classes \(key.classes.joined(separator: ", "))")
        }
        classes.append(index)
      }
      ranked[id] = classes
    }
  }

  /// 1/rank of the true class among the id's labels, 0 when it is not there.
  func precision(of id: String, truth: Int) -> Double {
    (ranked[id]?.firstIndex(of: truth)).map { 1 / Double($0 + 1) } ?? 0
  }
}

/// A label as compared: trimmed, and numbers in one spelling (`3.0` is `3`).
func canonical(_ label: String) -> String {
  let trimmed = label.trimmingCharacters(in: .whitespaces)
  if let number = Double(trimmed), number == number.rounded(), abs(number) < 1e15 { return String(Int(number)) }
  return trimmed
}

/// A validated submission: each id's probabilities over the answer key's classes.
struct SubmissionRows {
  var probabilities: [String: [Float]] = [:]

  init(_ table: CSVTable, path: String, key: AnswerKey) throws {
    let header = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
    let columns = header.count > 2 || (header.count == 2 && header[1] != key.labelName && key.classes.contains(header[1]))
    guard header.first == key.idName, columns ? Set(header.dropFirst()) == Set(key.classes) : header == [key.idName, key.labelName] else {
      throw CSVError(path: path, line: 1, reason: "header must be \(key.idName),\(key.labelName) or \(key.idName) followed by one column per class "
                     + "(\(key.classes.joined(separator: ","))); got \(header.joined(separator: ","))")
    }
    try key.forEachRow(of: table, path: path) { id, row in
      probabilities[id] = columns
        ? try columnProbabilities(row, header: header, key: key, path: path)
        : try labelProbabilities(row.fields[1], line: row.line, key: key, path: path)
    }
  }

  private func labelProbabilities(_ field: String, line: Int, key: AnswerKey, path: String) throws -> [Float] {
    let label = canonical(field)
    if let index = key.classes.firstIndex(of: label) {
      return key.classes.indices.map { $0 == index ? 1 : 0 }
    }
    if key.isBinary, let p = Double(label) {
      guard p >= 0, p <= 1 else { throw CSVError(path: path, line: line, reason: "label \(field) is outside [0, 1]") }
      return [Float(1 - p), Float(p)]
    }
    throw CSVError(path: path, line: line, reason: "label \"\(field)\" is not one of the classes \(key.classes.joined(separator: ", "))")
  }

  private func columnProbabilities(_ row: CSVTable.Row, header: [String], key: AnswerKey, path: String) throws -> [Float] {
    var values = [Float](repeating: 0, count: key.classes.count)
    for (column, name) in header.enumerated().dropFirst() {
      guard let p = Double(row.fields[column].trimmingCharacters(in: .whitespaces)), p >= 0, p <= 1 else {
        throw CSVError(path: path, line: row.line, reason: "\(name) probability \(row.fields[column]) is not a number in [0, 1]")
      }
      values[key.classes.firstIndex(of: name)!] = Float(p)
    }
    return values
  }
}

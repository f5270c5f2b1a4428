import Datasets
import Foundation

/// A competition's `sample_submission.csv`: the header and row order a submission must copy,
/// and what its values say the columns hold.
public struct SampleSubmission: Sendable {
  public var path: String
  public var header: [String]
  /// The ids of the first column, in the competition's order, with their lines.
  public var ids: [(id: String, line: Int)]
  /// The values of the second column (empty when there is none).
  var values: [String]

  /// Reads the file.
  ///
  /// - Throws: ``CSVError`` naming the file for a sample without an id column or rows.
  public init(contentsOf url: URL) throws {
    let table = try CSVTable(contentsOf: url)
    path = url.path
    header = table.header
    guard header.count >= 2, !table.rows.isEmpty else {
      throw CSVError(path: url.path, line: 1, reason: "a sample submission needs an id column, a value column and rows")
    }
    ids = table.rows.map { ($0.fields[0].trimmingCharacters(in: .whitespaces), $0.line) }
    values = table.rows.map { $0.fields[1].trimmingCharacters(in: .whitespaces) }
  }

  /// The format the sample's columns and values ask for: one column per class →
  /// `columns`; fractional numbers (`0.5`) → `probability`; whole numbers → `labels` when the
  /// classes are those numbers, else `numbers` (1 for the first class); text → `labels`.
  ///
  /// - Throws: ``ReportError`` when the sample's columns fit none of them.
  public func format(classNames: [String]) throws -> SubmissionFormat {
    if header.count > 2 {
      guard Set(header.dropFirst()) == Set(classNames) else {
        throw ReportError("\(path): columns \(header.dropFirst().joined(separator: ",")) are not the classes \(classNames.joined(separator: ","))")
      }
      return .columns
    }
    let numbers = values.compactMap(Double.init)
    guard numbers.count == values.count else { return .labels }
    if numbers.contains(where: { $0 != $0.rounded() }) { return .probability }
    return classNames.allSatisfy { Int($0) != nil } ? .labels : .numbers
  }
}

extension Submission {
  /// A submission shaped like `sample`: its header and its rows' order, each row filled
  /// from the prediction whose id is the sample's id (or the sample's id without its
  /// extension), in `format` (`auto`: as the sample's values say, ``SampleSubmission/format(classNames:)``).
  /// With `probability`, the value is P of the positive class: the class named `1` or
  /// `true`, else the second class.
  ///
  /// - Throws: ``ReportError`` naming the sample's first id without a prediction.
  public init(like sample: SampleSubmission, predictions: [(id: String, probabilities: [Float])], classNames: [String],
              format: SubmissionFormat, top: Int? = nil) throws {
    let format = format == .auto ? (top == nil ? try sample.format(classNames: classNames) : .labels) : format
    try Self.check(format, top: top, classNames: classNames)
    let byID = Dictionary(predictions.map { ($0.id, $0.probabilities) }, uniquingKeysWith: { first, _ in first })
    let positive = classNames.firstIndex { ["1", "true"].contains($0.lowercased()) } ?? 1
    let columns = sample.header.dropFirst().map { name in classNames.firstIndex(of: name) }
    header = sample.header
    rows = try sample.ids.map { id, line in
      guard let probabilities = byID[id] ?? byID[(id as NSString).deletingPathExtension] else {
        throw ReportError("\(sample.path) line \(line): id \(id) has no prediction; the run predicted \(predictions.count) test images, "
                          + "e.g. \(predictions.prefix(3).map(\.id).joined(separator: ", "))")
      }
      if format == .columns, columns.contains(where: { $0 == nil }) {
        throw ReportError("\(sample.path): columns are not the classes \(classNames.joined(separator: ","))")
      }
      return [id] + Self.cells(probabilities, format: format, classNames: classNames, positive: positive, columns: columns.compactMap { $0 },
                               top: top)
    }
  }
}

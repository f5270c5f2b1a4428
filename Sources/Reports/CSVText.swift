import CCSV
import Foundation

/// CSV as Kaggle and spreadsheets read it (RFC 4180): fields joined by commas, rows ended
/// by CRLF-free `\n`, and a field quoted — by libcsv's writer, which doubles embedded
/// quotes — when it holds a comma, a quote, a line break or leading or trailing spaces.
public enum CSVText {
  /// One CSV document from a header and rows.
  public static func document(header: [String], rows: [[String]]) -> String {
    ([header] + rows).map(line).joined(separator: "\n") + "\n"
  }

  /// One line of fields.
  public static func line(_ fields: [String]) -> String {
    fields.map(field).joined(separator: ",")
  }

  /// `text` as a cell a spreadsheet shows and never evaluates: text starting with `=`, `+`,
  /// `-`, `@`, a tab or a carriage return (a formula to Excel, LibreOffice and Google Sheets,
  /// `=HYPERLINK(...)` in a class name) gets a leading `'`, as OWASP's CSV-injection advice
  /// says; numbers, negative ones included, stay numbers.
  public static func spreadsheetSafe(_ text: String) -> String {
    guard let first = text.first, "=+-@\t\r".contains(first), Double(text) == nil else { return text }
    return "'" + text
  }

  /// A field, quoted only when it must be.
  public static func field(_ text: String) -> String {
    let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
      || text.first == " " || text.last == " "
    guard needsQuotes else { return text }
    let source = Array(text.utf8)
    var quoted = [UInt8](repeating: 0, count: source.count * 2 + 2)
    let written = source.withUnsafeBytes { src in
      quoted.withUnsafeMutableBytes { csv_write($0.baseAddress, $0.count, src.baseAddress, src.count) }
    }
    return String(decoding: quoted.prefix(written), as: UTF8.self)
  }
}

/// A report, submission or score that cannot be made: one line naming the file, row or run.
public struct ReportError: Error, CustomStringConvertible, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

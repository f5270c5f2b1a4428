import Foundation

/// A table of a report: rendered into the page (sortable by any column) and written beside
/// it as a CSV with the same header and rows.
public struct ReportTable: Sendable {
  /// One cell: the text shown (and written to the CSV), a numeric key to sort by, and an
  /// optional link target.
  public struct Cell: Sendable, ExpressibleByStringLiteral {
    public var text: String
    public var sortKey: Double?
    public var link: String?

    public init(_ text: String, sortKey: Double? = nil, link: String? = nil) {
      (self.text, self.sortKey, self.link) = (text, sortKey, link)
    }

    public init(stringLiteral text: String) { self.init(text) }

    /// A number shown with `digits` decimals (an empty cell for nil or NaN).
    public static func number(_ value: Double?, digits: Int = 4) -> Cell {
      guard let value, value.isFinite else { return Cell("", sortKey: nil) }
      return Cell(String(format: "%.\(digits)f", value), sortKey: value)
    }

    /// An integer.
    public static func integer(_ value: Int) -> Cell { Cell(String(value), sortKey: Double(value)) }
  }

  /// The CSV's file name without extension.
  public var name: String
  public var header: [String]
  public var rows: [[Cell]]

  public init(name: String, header: [String], rows: [[Cell]]) {
    (self.name, self.header, self.rows) = (name, header, rows)
  }

  /// The table as HTML; every header and cell is escaped. Clicking a header sorts by it (the
  /// pointer and the ▲/▼ it gains say so).
  public func html(caption: String? = nil) -> String {
    // Wide tables (a leaderboard with every hyperparameter) scroll inside the page instead of being cut off.
    var html = "<div class=\"table-scroll\"><table class=\"sortable\" data-csv=\"\(HTML.escape(name)).csv\">"
    if let caption { html += HTML.element("caption", caption) }
    html += "<thead><tr>" + header.map { "<th scope=\"col\">\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
    for row in rows {
      html += "<tr>" + row.map(cellHTML).joined() + "</tr>"
    }
    return html + "</tbody></table></div>"
  }

  private func cellHTML(_ cell: Cell) -> String {
    // Nine significant digits order any two values a table shows apart, in half the bytes
    // of the shortest exact form; a numeric cell is right-aligned by its key.
    let key = cell.sortKey.map { " data-sort=\"\(String(format: "%.9g", $0))\"" } ?? ""
    let text = HTML.escape(cell.text)
    let content = cell.link.map { "<a href=\"\(HTML.escape($0))\">\(text)</a>" } ?? text
    return "<td\(key)>\(content)</td>"
  }

  /// The table as CSV, every text cell made safe to open in a spreadsheet
  /// (``CSVText/spreadsheetSafe(_:)``).
  public func csv() -> String {
    CSVText.document(header: header.map(CSVText.spreadsheetSafe), rows: rows.map { $0.map { CSVText.spreadsheetSafe($0.text) } })
  }
}

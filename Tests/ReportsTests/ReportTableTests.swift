import Reports
import XCTest

final class ReportTableTests: XCTestCase {
  /// A numeric cell carries a short sort key that orders it as its value (not as its
  /// rounded text), and its CSV keeps the text shown.
  func testNumericCells_sortByValue_withShortKeys() {
    let table = ReportTable(name: "t", header: ["run", "accuracy"], rows: [
      [.integer(13), .number(0.8461538461538461, digits: 3)],
      [.integer(2), .number(0.8459, digits: 3)],
      [.init("lost"), .number(nil)],
    ])
    let html = table.html()
    XCTAssertTrue(html.contains("<td data-sort=\"13\">13</td><td data-sort=\"0.846153846\">0.846</td>"), html)
    XCTAssertTrue(html.contains("<td data-sort=\"0.8459\">0.846</td>"), "equal text, the value still orders them")
    XCTAssertTrue(html.contains("<td>lost</td><td></td>"), "text and missing numbers carry no key")
    XCTAssertEqual(table.csv(), "run,accuracy\n13,0.846\n2,0.846\nlost,\n")
  }
}

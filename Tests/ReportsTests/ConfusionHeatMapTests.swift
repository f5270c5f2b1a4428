import Reports
import XCTest

final class ConfusionHeatMapTests: XCTestCase {
  /// Only non-zero cells are drawn (each with its count and tooltip) over one background, so
  /// a large, mostly empty matrix stays small.
  func testOnlyNonZeroCellsAreDrawn() {
    var matrix = [[Int]](repeating: [Int](repeating: 0, count: 8), count: 8)
    for c in 0..<8 { matrix[c][c] = 5 }
    (matrix[0][1], matrix[3][2]) = (2, 1)
    let svg = ConfusionHeatMap(title: "t", matrix: matrix, classNames: (0..<8).map { "c\($0)" }).html()
    XCTAssertEqual(svg.components(separatedBy: "%)</title></rect>").count - 1, 10)
    XCTAssertTrue(svg.contains("<title>true c0 → predicted c1: 2 (29%)</title>"))
    let counts = svg.components(separatedBy: "class=\"cell\">")[1].components(separatedBy: "</g></g>")[0]
    XCTAssertEqual(counts.components(separatedBy: "<text ").count - 1, 10, "a count in every drawn cell")
    XCTAssertTrue(counts.contains(">2</text>") && counts.contains("<g fill=\"#fff\">"), "dark cells' counts in white")
    var large = [[Int]](repeating: [Int](repeating: 0, count: 257), count: 257)
    for c in 0..<257 { large[c][c] = 3 }
    XCTAssertLessThan(ConfusionHeatMap(title: "t", matrix: large, classNames: (0..<257).map { "class \($0)" }).html().utf8.count, 200_000,
                      "257 classes: the diagonal, not 66,049 cells")
  }
}

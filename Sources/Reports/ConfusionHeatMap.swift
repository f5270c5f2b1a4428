import Foundation

/// A confusion matrix drawn as a heat map: rows are true classes, columns predicted ones,
/// each cell shaded by the share of its row (the recall of the diagonal) and labelled with
/// its count; class names on both axes and a colour legend. Empty cells are the grid's
/// background, so the drawing grows with the non-zero cells, not with classes squared (a
/// 257-class matrix is mostly empty).
public struct ConfusionHeatMap: Sendable {
  public var title: String
  /// `matrix[true][predicted]` counts.
  public var matrix: [[Int]]
  public var classNames: [String]

  public init(title: String, matrix: [[Int]], classNames: [String]) {
    (self.title, self.matrix, self.classNames) = (title, matrix, classNames)
  }

  /// The heat map as inline SVG.
  public func html() -> String {
    let n = matrix.count
    guard n > 0 else { return "<p class=\"note\">No confusion matrix.</p>" }
    let cell = n <= 12 ? 40.0 : max(6, 480 / Double(n))
    let showCounts = cell >= 22, labelEvery = max(1, Int((12 / cell).rounded(.up)))
    let longest = Double(min(classNames.map(\.count).max() ?? 4, Self.labelLength))
    let margin = 30 + 6.2 * longest, top = 28.0
    let legendWidth = 90.0
    let width = margin + cell * Double(n) + 24 + legendWidth, height = top + margin + cell * Double(n) + 30
    var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" class=\"heatmap\" style=\"max-width:\(Int(width))px\">"
    svg += "<title>\(HTML.escape(title))</title>"
    let gridLeft = margin, gridTop = top, side = f(cell * Double(n))
    // The grid is drawn in its own coordinates (a cell's corner is a multiple of its size).
    svg += "<g transform=\"translate(\(f(gridLeft)) \(f(gridTop)))\"><rect width=\"\(side)\" height=\"\(side)\" fill=\"\(Self.shade(0))\"/>"
    var cells = "", darkCounts = "", lightCounts = ""
    for (actual, row) in matrix.enumerated() {
      let total = max(row.reduce(0, +), 1)
      for (predicted, count) in row.enumerated() where count > 0 {
        let share = Double(count) / Double(total)
        let x = cell * Double(predicted), y = cell * Double(actual)
        let tip = "true \(name(actual)) → predicted \(name(predicted)): \(count) (\(String(format: "%.0f", share * 100))%)"
        cells += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(Self.shade(share))\"><title>\(HTML.escape(tip))</title></rect>"
        if showCounts {
          let text = "<text x=\"\(f(x + cell / 2))\" y=\"\(f(y + cell / 2 + 4))\">\(count)</text>"
          if share > 0.55 { lightCounts += text } else { darkCounts += text }
        }
      }
    }
    svg += "<g stroke=\"#fff\" stroke-width=\"0.5\">\(cells)</g><g text-anchor=\"middle\" class=\"cell\">\(darkCounts)"
      + "<g fill=\"#fff\">\(lightCounts)</g></g></g>"
    var rowLabels = "", columnLabels = ""
    for index in stride(from: 0, to: n, by: labelEvery) {
      let centre = cell * (Double(index) + 0.5)
      rowLabels += "<text x=\"\(f(gridLeft - 6))\" y=\"\(f(gridTop + centre + 4))\">\(HTML.escape(label(index)))</text>"
      let x = gridLeft + centre, y = gridTop + cell * Double(n) + 6
      columnLabels += "<text transform=\"translate(\(f(x + 4)) \(f(y))) rotate(-60)\">\(HTML.escape(label(index)))</text>"
    }
    svg += "<g class=\"tick\" text-anchor=\"end\">\(rowLabels)\(columnLabels)</g>"
    svg += "<text x=\"\(f(gridLeft + cell * Double(n) / 2))\" y=\"16\" text-anchor=\"middle\" class=\"label\">predicted class</text>"
    svg += "<text transform=\"translate(12 \(f(gridTop + cell * Double(n) / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"label\">true class</text>"
    svg += legend(x: gridLeft + cell * Double(n) + 24, y: gridTop, height: min(200, cell * Double(n)))
    return svg + "</svg>"
  }

  private func name(_ index: Int) -> String { classNames.indices.contains(index) ? classNames[index] : "class \(index)" }

  /// Axis labels longer than this are cut with "…" (cells' tooltips keep the full name).
  static let labelLength = 24

  private func label(_ index: Int) -> String {
    let full = name(index)
    return full.count <= Self.labelLength ? full : String(full.prefix(Self.labelLength - 1)) + "…"
  }

  /// The colour scale: a vertical gradient from 100% of the true class (top) to 0%. The
  /// shade is linear in RGB, so two stops draw it exactly. (One heat map per page: its id is
  /// fixed.)
  private func legend(x: Double, y: Double, height: Double) -> String {
    "<defs><linearGradient id=\"share-of-row\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\"><stop offset=\"0\" stop-color=\"\(Self.shade(1))\"/>"
      + "<stop offset=\"1\" stop-color=\"\(Self.shade(0))\"/></linearGradient></defs>"
      + "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"16\" height=\"\(f(height))\" fill=\"url(#share-of-row)\"/>"
      + "<g class=\"tick\"><text x=\"\(f(x))\" y=\"\(f(y - 6))\">share of row</text>"
      + [(1.0, "100%"), (0.5, "50%"), (0.0, "0%")].map { share, label in
        "<text x=\"\(f(x + 22))\" y=\"\(f(y + height * (1 - share) + 4))\">\(label)</text>"
      }.joined() + "</g>"
  }

  /// White (0) to dark blue (1).
  static func shade(_ share: Double) -> String {
    let t = min(max(share, 0), 1)
    let (r, g, b) = (247 - (247 - 8) * t, 251 - (251 - 48) * t, 255 - (255 - 107) * t)
    return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
  }
}

import Foundation

/// A grouped bar chart: one group per category (e.g. backbone), one bar per series (e.g.
/// strategy), each bar labelled with its value; missing values leave a gap labelled "–".
public struct BarChart: Sendable {
  public var title: String
  public var categories: [String]
  public var series: [String]
  /// `values[category][series]`.
  public var values: [[Double?]]
  public var xLabel: String
  public var yLabel: String

  public init(title: String, categories: [String], series: [String], values: [[Double?]], xLabel: String, yLabel: String) {
    (self.title, self.categories, self.series, self.values, self.xLabel, self.yLabel) = (title, categories, series, values, xLabel, yLabel)
  }

  /// The chart as inline SVG followed by its legend.
  public func html() -> String {
    let frame = SVGFrame()
    let present = values.flatMap { $0.compactMap { $0 } }
    let (range, ticks) = niceTicks(min(0, present.min() ?? 0), max(present.max() ?? 1, present.allSatisfy { $0 <= 1 } ? 1 : 0))
    var svg = frame.open(title: title) + frame.yAxis(range, ticks: ticks, label: yLabel, format: { String(format: "%g", $0) })
    let groupWidth = frame.plotWidth / Double(max(categories.count, 1))
    let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
    for (c, category) in categories.enumerated() {
      let groupLeft = frame.left + groupWidth * Double(c) + groupWidth * 0.1
      for (s, name) in series.enumerated() {
        let x = groupLeft + barWidth * Double(s)
        guard let value = values[c][s] else {
          svg += "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(frame.y(range.lowerBound, range) - 4))\" text-anchor=\"middle\" class=\"tick\">–</text>"
          continue
        }
        let top = frame.y(max(value, range.lowerBound), range), base = frame.y(max(0, range.lowerBound), range)
        svg += "<rect x=\"\(f(x))\" y=\"\(f(min(top, base)))\" width=\"\(f(barWidth - 2))\" height=\"\(f(abs(base - top)))\" fill=\"\(Palette.colour(s))\">"
          + "<title>\(HTML.escape("\(category) · \(name): \(String(format: "%.4f", value))"))</title></rect>"
        svg += "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(top - 4))\" text-anchor=\"middle\" class=\"value\">\(String(format: "%.3f", value))</text>"
      }
    }
    svg += frame.xTicks(categories.enumerated().map { (frame.left + groupWidth * (Double($0.offset) + 0.5), $0.element) })
    svg += frame.xAxis(label: xLabel) + "</svg>"
    return svg + legendHTML(series.enumerated().map { ($1, Palette.colour($0), false) })
  }
}

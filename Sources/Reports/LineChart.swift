import Foundation

/// Lines of `(x, y)` points on shared axes: learning curves.
public struct LineChart: Sendable {
  /// One line: its legend name, colour index and style.
  public struct Series: Sendable {
    public var name: String
    public var colour: Int
    public var dashed: Bool
    /// Drawn as a thin grey line behind the coloured ones and left out of the legend (the
    /// many runs that are not among the best few).
    public var muted: Bool
    public var points: [(x: Double, y: Double)]

    public init(name: String, colour: Int, dashed: Bool = false, muted: Bool = false, points: [(x: Double, y: Double)]) {
      (self.name, self.colour, self.dashed, self.muted, self.points) = (name, colour, dashed, muted, points)
    }
  }

  public var title: String
  public var series: [Series]
  public var xLabel: String
  public var yLabel: String

  public init(title: String, series: [Series], xLabel: String, yLabel: String) {
    (self.title, self.series, self.xLabel, self.yLabel) = (title, series, xLabel, yLabel)
  }

  /// The chart as inline SVG followed by its legend (nothing for no points): muted series
  /// first, as thin grey lines counted in one legend entry, then the coloured ones.
  public func html() -> String {
    let points = series.flatMap(\.points).filter { $0.y.isFinite }
    guard !points.isEmpty else { return "<p class=\"note\">No epochs recorded.</p>" }
    let frame = SVGFrame()
    let (yRange, yTicks) = niceTicks(min(0, points.map(\.y).min()!), points.map(\.y).max()!)
    let xs = points.map(\.x)
    let (xRange, xTicks) = niceTicks(xs.min()!, max(xs.max()!, xs.min()! + 1), count: min(8, Int(xs.max()! - xs.min()!) + 1))
    var svg = frame.open(title: title) + frame.yAxis(yRange, ticks: yTicks, label: yLabel, format: { String(format: "%g", $0) })
    svg += frame.xTicks(xTicks.filter { $0 == $0.rounded() }.map { (frame.x($0, xRange), String(Int($0))) })
    for line in series.filter(\.muted) + series.filter({ !$0.muted }) where !line.points.isEmpty {
      let path = line.points.filter { $0.y.isFinite }.map { "\(f(frame.x($0.x, xRange))),\(f(frame.y($0.y, yRange)))" }.joined(separator: " ")
      let stroke = line.muted ? "stroke=\"\(Palette.muted)\" stroke-width=\"1\" stroke-opacity=\"0.6\""
        : "stroke=\"\(Palette.colour(line.colour))\" stroke-width=\"2\""
      svg += "<polyline points=\"\(path)\" fill=\"none\" \(stroke)\(line.dashed ? " stroke-dasharray=\"5 4\"" : "")>"
        + "<title>\(HTML.escape(line.name))</title></polyline>"
      if line.points.count == 1, let point = line.points.first {
        svg += "<circle cx=\"\(f(frame.x(point.x, xRange)))\" cy=\"\(f(frame.y(point.y, yRange)))\" r=\"3\" fill=\"\(Palette.colour(line.colour))\"/>"
      }
    }
    svg += frame.xAxis(label: xLabel) + "</svg>"
    let muted = series.filter(\.muted).count
    let others = muted == 0 ? [] : [("\(muted) more (grey)", Palette.muted, false)]
    return svg + legendHTML(series.filter { !$0.muted }.map { ($0.name, Palette.colour($0.colour), $0.dashed) } + others)
  }
}

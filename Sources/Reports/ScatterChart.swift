import Foundation

/// Labelled points on two axes with the diagonal y = x: how far two scores of the same models
/// agree (a cross-validation score against the public test score).
public struct ScatterChart: Sendable {
  public struct Point: Sendable {
    public var name: String
    public var x: Double
    public var y: Double

    public init(name: String, x: Double, y: Double) {
      (self.name, self.x, self.y) = (name, x, y)
    }
  }

  public var title: String
  public var points: [Point]
  public var xLabel: String
  public var yLabel: String

  public init(title: String, points: [Point], xLabel: String, yLabel: String) {
    (self.title, self.points, self.xLabel, self.yLabel) = (title, points, xLabel, yLabel)
  }

  /// The chart as inline SVG with a legend of the points' names and colours (a note when no
  /// point has both scores); each point's tooltip gives its name and scores, and the dashed
  /// diagonal marks where both scores are equal.
  public func html() -> String {
    let shown = points.filter { $0.x.isFinite && $0.y.isFinite }
    guard !shown.isEmpty else { return "<p class=\"note\">No model has both scores yet.</p>" }
    let values = shown.flatMap { [$0.x, $0.y] }
    let (range, ticks) = niceTicks(values.min()!, values.max()!)
    let frame = SVGFrame()
    var svg = frame.open(title: title) + frame.yAxis(range, ticks: ticks, label: yLabel, format: { String(format: "%g", $0) })
    svg += frame.xTicks(ticks.map { (frame.x($0, range), String(format: "%g", $0)) })
    let (low, high) = (range.lowerBound, range.upperBound)
    svg += "<line x1=\"\(f(frame.x(low, range)))\" y1=\"\(f(frame.y(low, range)))\" x2=\"\(f(frame.x(high, range)))\" "
      + "y2=\"\(f(frame.y(high, range)))\" stroke=\"#888\" stroke-dasharray=\"4 4\"><title>equal scores</title></line>"
    for (index, point) in shown.enumerated() {
      svg += "<circle cx=\"\(f(frame.x(point.x, range)))\" cy=\"\(f(frame.y(point.y, range)))\" r=\"4\" fill=\"\(Palette.colour(index))\">"
        + "<title>\(HTML.escape(String(format: "%@: %.4f, %.4f", point.name, point.x, point.y)))</title></circle>"
    }
    return svg + frame.xAxis(label: xLabel) + "</svg>"
      + legendHTML(shown.enumerated().map { ($0.element.name, Palette.colour($0.offset), false) })
  }
}

import Foundation

/// Shared pieces of Podium's inline SVG charts: the plot frame, "nice" tick values, axis
/// labels and the colour palette. Every text drawn is escaped.
struct SVGFrame {
  var width = 640.0, height = 300.0
  var left = 64.0, right = 16.0, top = 16.0, bottom = 52.0

  var plotWidth: Double { width - left - right }
  var plotHeight: Double { height - top - bottom }

  /// The opening tag, with an accessible title.
  func open(title: String) -> String {
    "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" class=\"chart\">"
      + "<title>\(HTML.escape(title))</title>"
  }

  /// The y axis with grid lines at `ticks` over `range`, and its label. Lines and labels
  /// sharing a style sit in one group that carries it, which keeps large reports small.
  func yAxis(_ range: ClosedRange<Double>, ticks: [Double], label: String, format: (Double) -> String) -> String {
    var lines = "", labels = ""
    for tick in ticks {
      let y = self.y(tick, range)
      lines += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y))\" y2=\"\(f(y))\"/>"
      labels += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\">\(HTML.escape(format(tick)))</text>"
    }
    return "<g class=\"grid\">\(lines)</g><g class=\"tick\" text-anchor=\"end\">\(labels)</g>"
      + "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" class=\"axis\"/>"
      + "<text transform=\"translate(14 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"label\">\(HTML.escape(label))</text>"
  }

  /// Labels under the x axis, each centred on its position.
  func xTicks(_ ticks: [(x: Double, text: String)]) -> String {
    let y = f(height - bottom + 16)
    return "<g class=\"tick\" text-anchor=\"middle\">"
      + ticks.map { "<text x=\"\(f($0.x))\" y=\"\(y)\">\(HTML.escape($0.text))</text>" }.joined() + "</g>"
  }

  /// The x axis line and its label.
  func xAxis(label: String) -> String {
    "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(height - bottom))\" y2=\"\(f(height - bottom))\" class=\"axis\"/>"
      + "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" class=\"label\">\(HTML.escape(label))</text>"
  }

  func y(_ value: Double, _ range: ClosedRange<Double>) -> Double {
    let span = range.upperBound - range.lowerBound
    return top + plotHeight * (1 - (span == 0 ? 0.5 : (value - range.lowerBound) / span))
  }

  func x(_ value: Double, _ range: ClosedRange<Double>) -> Double {
    let span = range.upperBound - range.lowerBound
    return left + plotWidth * (span == 0 ? 0.5 : (value - range.lowerBound) / span)
  }
}

/// Round tick values covering `low...high`: 1, 2 or 5 times a power of ten apart.
func niceTicks(_ low: Double, _ high: Double, count: Int = 5) -> (range: ClosedRange<Double>, ticks: [Double]) {
  guard high > low else { return (low - 1...low + 1, [low - 1, low, low + 1]) }
  let raw = (high - low) / Double(count)
  let magnitude = pow(10, floor(log10(raw)))
  let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
  let start = floor(low / step) * step, end = ceil(high / step) * step
  let ticks = stride(from: start, through: end + step / 2, by: step).map { $0 }
  return (start...end, ticks)
}

/// SVG coordinates to a tenth, without a trailing ".0" (`64`, `93.4`).
func f(_ value: Double) -> String {
  let text = String(format: "%.1f", value)
  return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}

/// Colours that stay distinguishable (Tableau 10), reused in order.
enum Palette {
  static let colours = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

  static func colour(_ index: Int) -> String { colours[index % colours.count] }

  /// The grey of series that stay in the background.
  static let muted = "#b8bec6"
}

/// A legend row of coloured swatches, as HTML below a chart.
func legendHTML(_ entries: [(name: String, colour: String, dashed: Bool)]) -> String {
  "<div class=\"legend\">" + entries.map { entry in
    let style = entry.dashed ? "border-top:2px dashed \(entry.colour);background:none" : "background:\(entry.colour)"
    return "<span><i style=\"\(style)\"></i>\(HTML.escape(entry.name))</span>"
  }.joined() + "</div>"
}

import Foundation
import Training

/// The learning-rate finder's pass as a chart: the raw and the smoothed loss against the
/// rate (log10 axis), with its two suggestions marked. Losses above twice the starting one
/// (the divergence at the end) are left out, so the part that matters fills the chart.
public enum LearningRatePlot {
  /// The chart as an HTML fragment (inline SVG and legend).
  public static func html(_ result: LearningRateFinder.Result) -> String {
    let log = { (rate: Float) in Double(log10(rate)) }
    let cap = 2 * (result.smoothed.first(where: \.isFinite) ?? .infinity)
    let points = { (losses: [Float]) in zip(result.rates, losses).filter { $0.1.isFinite && $0.1 <= cap }.map { (log($0.0), Double($0.1)) } }
    var series = [LineChart.Series(name: "loss", colour: 9, points: points(result.losses)),
                  LineChart.Series(name: "smoothed loss", colour: 0, points: points(result.smoothed))]
    for (index, (name, rate)) in [("steepest descent", result.steepest), ("minimum / 10", result.minimumTenth)].enumerated() {
      guard let rate, let nearest = result.rates.indices.min(by: { abs(log(result.rates[$0]) - log(rate)) < abs(log(result.rates[$1]) - log(rate)) }),
        result.smoothed[nearest].isFinite else { continue }
      series.append(LineChart.Series(name: String(format: "%@: %.1e", name, rate), colour: index + 1,
                                     points: [(log(rate), Double(result.smoothed[nearest]))]))
    }
    return LineChart(title: "Learning-rate finder: loss against the rate", series: series, xLabel: "learning rate (log10)", yLabel: "training loss")
      .html()
  }

  /// A standalone SVG file's text (the chart without its HTML legend).
  public static func svg(_ result: LearningRateFinder.Result) -> String {
    let html = self.html(result)
    guard let start = html.range(of: "<svg"), let end = html.range(of: "</svg>") else { return html }
    var svg = String(html[start.lowerBound..<end.upperBound]).replacingOccurrences(of: "<svg ", with: "<svg xmlns=\"http://www.w3.org/2000/svg\" ")
    if let title = svg.range(of: "</title>") {  // the chart's own title comes first
      svg.insert(contentsOf: "<style>.grid{stroke:#e3e6ea}.axis{stroke:#5b6775}text{font:11px sans-serif;fill:#3c4652}</style>", at: title.upperBound)
    }
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg
  }
}

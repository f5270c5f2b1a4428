import Datasets
import Engine
import Foundation
import ResultsStore
import Sweeps
import Training

/// Times `podium report` on a generated sweep of many runs: six learning rates (1e-4 to
/// 3e-2) repeated over seeds, each run with its epochs and the predictions of a validation
/// and a test split, written through the calls a worker makes. The score of a run depends on
/// its rate (best at 1e-3) plus seed noise, so the report has something to find. Measures
/// the time to write the report and its size; `scripts/bench/report_render.py` times the
/// page in headless Chromium.
public struct ReportBenchmark {
  public var runs: Int
  public var epochs = 10
  public var validationImages = 64
  public var testImages = 100
  public var classes = 8
  public var folder: URL

  public static let rates = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]

  public init(runs: Int, folder: URL) {
    (self.runs, self.folder) = (runs, folder)
  }

  public struct Result: Encodable {
    public var runs: Int
    public var generateSeconds: Double
    public var reportSeconds: Double
    /// `index.html` alone, and every file of the report folder.
    public var indexMegabytes: Double
    public var folderMegabytes: Double
    public var index: String
  }

  public func run() throws -> Result {
    try? FileManager.default.removeItem(at: folder)
    let start = Date()
    let store = try ResultsStore(path: folder.appendingPathComponent("podium.sqlite").path)
    let sweep = try generate(into: store)
    let generated = Date().timeIntervalSince(start)
    let reportStart = Date()
    let index = try SweepReport.write(store: store, sweep: sweep, folder: folder.appendingPathComponent("reports"), version: "bench")
    let reported = Date().timeIntervalSince(reportStart)
    let files = FileManager.default.enumerator(atPath: index.deletingLastPathComponent().path)?.compactMap { $0 as? String } ?? []
    let bytes = files.map { Self.size(index.deletingLastPathComponent().appendingPathComponent($0).path) }.reduce(0, +)
    return Result(runs: runs, generateSeconds: generated, reportSeconds: reported, indexMegabytes: Self.size(index.path) / 1e6,
                  folderMegabytes: bytes / 1e6, index: index.path)
  }

  /// Plans the sweep (rates × seeds) and finishes every run.
  private func generate(into store: ResultsStore) throws -> Int64 {
    let names = (0..<classes).map { "class-\($0)" }
    let subsets = [(Subset.validation, validationImages), (.test, testImages)]
    let assignments = subsets.flatMap { subset, count in
      (0..<count).map { Assignment(path: "\(subset.rawValue)/\($0).jpg", subset: subset, label: $0 % classes) }
    }
    let dataset = DatasetRecord(name: "bench-report", adapter: "image-folder", root: "/data/bench-report", options: [:], classNames: names,
                                split: "{}", seed: 0, assignments: assignments)
    let plan = (0..<runs).map { index -> RunSpec in
      var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
      spec.training.learningRate = Float(Self.rates[index % Self.rates.count])
      spec.training.seed = UInt64(index / Self.rates.count)
      return spec
    }
    let sweep = try store.planSweep(name: "bench-report", spec: "name: bench-report", metric: .accuracy, dataset: dataset, runs: plan)
    var rng = SeededGenerator(seed: 7)
    while let claim = try store.claimRun(sweep: sweep, worker: .current(), policy: .standard) {
      let spec = try JSONDecoder().decode(RunSpec.self, from: Data(claim.spec.utf8))
      let skill = 0.8 - 0.06 * pow(log10(Double(spec.training.learningRate)) + 3, 2) + 0.08 * (Double(rng.nextUniform()) - 0.5)
      for epoch in 0..<epochs {
        let progress = Double(epoch + 1) / Double(epochs)
        try store.recordEpoch(claim, EpochRecord(epoch: epoch, trainLoss: 2 - 1.5 * progress * skill, trainMetric: skill * progress + 0.1,
                                                 validationLoss: 2.1 - 1.4 * progress * skill, validationMetric: skill * progress, seconds: 1))
      }
      let predictions = assignments.map { item in record(item, correct: Double(rng.nextUniform()) < skill, rng: &rng) }
      let validation = predictions.filter { $0.subset == .validation }, test = predictions.filter { $0.subset == .test }
      let score = { (records: [PredictionRecord]) in
        ClassificationMetrics(probabilities: records.flatMap(\.probabilities), labels: records.map { $0.label! }, classes: classes)
      }
      try store.completeRun(claim, RunCompletion(outcome: .done, validationMetric: score(validation).accuracy, testMetric: score(test).accuracy,
                                                 metrics: score(test), confusion: [.validation: score(validation).confusion, .test: score(test).confusion],
                                                 predictions: predictions))
    }
    return sweep
  }

  /// A prediction of `item` that puts 0.6 on its class when `correct`, else on another.
  private func record(_ item: Assignment, correct: Bool, rng: inout SeededGenerator) -> PredictionRecord {
    let predicted = correct ? item.label : (item.label + 1 + Int(rng.next() % UInt64(classes - 1))) % classes
    var probabilities = [Float](repeating: 0.4 / Float(classes - 1), count: classes)
    probabilities[predicted] = 0.6
    return PredictionRecord(subset: item.subset, imageID: item.path, path: item.path, label: item.label, probabilities: probabilities)
  }

  private static func size(_ path: String) -> Double {
    Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
  }
}

import Datasets
import Engine
import Foundation
import Sweeps
import Training

/// Times `podium sweep merge` on a synthetic cluster sweep: one shard per run, each run with
/// its epochs, an attempt, and the predictions and confusion matrix of a validation split,
/// written through the same calls a task makes. Measures the merged store's size and the
/// time of a first merge and of a second one (which changes nothing).
public struct MergeBenchmark {
  public var runs: Int
  public var epochs: Int
  public var validationImages = 200
  public var classes = 10
  public var folder: URL

  public init(runs: Int, epochs: Int, folder: URL) {
    (self.runs, self.epochs, self.folder) = (runs, epochs, folder)
  }

  public struct Result: Encodable {
    public var runs: Int
    public var epochs: Int
    public var validationImages: Int
    public var classes: Int
    public var writeShardsSeconds: Double
    public var shardsMegabytes: Double
    public var mergeSeconds: Double
    public var secondMergeSeconds: Double
    public var storeMegabytes: Double
  }

  public func run() throws -> Result {
    try? FileManager.default.removeItem(at: folder)
    let shards = folder.appendingPathComponent("runs/bench/shards")
    let start = Date()
    let dataset = DatasetRecord(
      name: "bench", adapter: "image-folder", root: "/data/bench", options: [:], classNames: (0..<classes).map { "class-\($0)" },
      split: "{}", seed: 0, assignments: (0..<validationImages).map { Assignment(path: "images/\($0).jpg", subset: .validation, label: $0 % classes) })
    let plan = (0..<runs).map { index -> RunSpec in
      var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
      spec.training.seed = UInt64(index)
      return spec
    }
    for task in plan.indices { try writeShard(task, plan[task], dataset, into: shards) }
    let written = Date().timeIntervalSince(start)
    let store = try ResultsStore(path: folder.appendingPathComponent("podium.sqlite").path)
    let files = ShardLayout.shardFiles(in: shards)
    let mergeStart = Date()
    _ = try store.merge(shards: files)
    let merged = Date().timeIntervalSince(mergeStart)
    let againStart = Date()
    _ = try store.merge(shards: files)
    let again = Date().timeIntervalSince(againStart)
    return Result(runs: runs, epochs: epochs, validationImages: validationImages, classes: classes, writeShardsSeconds: written,
                  shardsMegabytes: megabytes(files.map(\.path)), mergeSeconds: merged, secondMergeSeconds: again,
                  storeMegabytes: megabytes(["", "-wal"].map { folder.appendingPathComponent("podium.sqlite").path + $0 }))
  }

  private func writeShard(_ task: Int, _ spec: RunSpec, _ dataset: DatasetRecord, into shards: URL) throws {
    let shard = try ResultsStore.shard(at: shards.appendingPathComponent("task-\(task).sqlite").path)
    let sweep = try shard.planSweep(name: "bench", spec: "name: bench", metric: .accuracy, dataset: dataset, runs: [spec])
    let worker = WorkerIdentity.current(environment: ["SLURM_ARRAY_JOB_ID": "1", "SLURM_ARRAY_TASK_ID": "\(task)"])
    guard let claim = try shard.claimTask(sweep: sweep, spec: spec, worker: worker, policy: .standard) else { return }
    var rng = SeededGenerator(seed: UInt64(task))
    for epoch in 0..<epochs {
      try shard.recordEpoch(claim, EpochRecord(epoch: epoch, trainLoss: Double(rng.nextUniform()), trainMetric: Double(rng.nextUniform()),
                                               validationLoss: Double(rng.nextUniform()), validationMetric: Double(rng.nextUniform()),
                                               seconds: 10))
    }
    let predictions = dataset.assignments.map { item -> PredictionRecord in
      var probabilities = (0..<classes).map { _ in rng.nextUniform() }
      let total = probabilities.reduce(0, +)
      probabilities = probabilities.map { $0 / total }
      return PredictionRecord(subset: .validation, imageID: item.path, path: item.path, label: item.label, probabilities: probabilities)
    }
    let confusion = (0..<classes).map { row in (0..<classes).map { $0 == row ? validationImages / classes : 0 } }
    try shard.completeRun(claim, RunCompletion(outcome: .done, validationMetric: Double(rng.nextUniform()), confusion: [.validation: confusion],
                                               predictions: predictions, artifacts: [.checkpoint: "/shared/runs/bench/task-\(task)/best.safetensors"]))
  }

  private func megabytes(_ paths: [String]) -> Double {
    paths.compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.reduce(0, +).asMegabytes
  }
}

private extension Int {
  var asMegabytes: Double { Double(self) / 1_048_576 }
}

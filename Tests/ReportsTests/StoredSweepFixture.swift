import Backbones
import Datasets
import Engine
import Foundation
import Imaging
import ResultsStore
import Sweeps
import Training
import XCTest

/// A results database holding one real sweep as the runner would leave it: a dataset whose
/// class names are hostile strings, three finished runs with epochs, confusion matrices,
/// validation/test/unlabelled predictions and checkpoints, one failed run; plus the image
/// files the predictions point at.
struct StoredSweepFixture {
  static let classNames = ["<script>alert(1)</script>", "cat, \"the\" cat", "dog"]

  let folder: URL
  let store: ResultsStore
  let sweep: Int64
  var root: URL { folder.appendingPathComponent("data") }

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-reports-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    store = try ResultsStore(path: folder.appendingPathComponent("results.sqlite").path)
    let root = folder.appendingPathComponent("data")
    let paths = (0..<12).map { "images/\($0 % 3)/\($0).png" }
    for (index, path) in paths.enumerated() {
      let pixels = [UInt8](repeating: UInt8(index * 20), count: 16 * 16 * 3)
      try FileManager.default.createDirectory(at: root.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
      try ImageEncoder.encode(Image(width: 16, height: 16, pixels: pixels), asPNG: true).write(to: root.appendingPathComponent(path))
    }
    let assignments = paths.enumerated().map { Assignment(path: $1, subset: [Subset.train, .train, .validation, .test][$0 % 4], label: $0 % 3) }
    let dataset = DatasetRecord(name: "hostile", adapter: "image-folder", root: root.path, options: [:], classNames: Self.classNames,
                               split: #"{"fractions":{"train":0.5,"validation":0.25,"test":0.25}}"#, seed: 0, assignments: assignments)
    let specs = [("small_cnn", "scratch", 0.001), ("efficientnet_lite0", "features", 0.001), ("efficientnet_lite0", "finetune", 0.0003),
                 ("small_cnn", "scratch", 1e9)]
    let plan = specs.map { backbone, strategy, lr in
      var spec = RunSpec(backbone: BackboneName(rawValue: backbone)!, strategy: Strategy(rawValue: strategy)!)
      spec.training.learningRate = Float(lr)
      return spec
    }
    let sweep = try store.planSweep(name: "hostile <b>sweep</b>", spec: "name: hostile", metric: .accuracy, dataset: dataset, runs: plan)
    self.sweep = sweep
    let worker = WorkerIdentity(host: "<machine>", processID: 1, processStart: 1, version: "test")
    // Run 1's first worker vanished: its lease ran out and the run was taken again.
    let vanished = WorkerIdentity(host: "lost-host", processID: 2, processStart: 1, version: "test")
    _ = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: vanished, policy: LeasePolicy(lease: 0.05, heartbeat: 0.01, maxAttempts: 3)))
    usleep(100_000)
    for index in plan.indices {
      let claim = try XCTUnwrap(try store.claimRun(sweep: sweep, worker: worker, policy: .standard))
      if index == 3 { try store.completeRun(claim, .failed("loss became NaN at <epoch 1>")); continue }
      try finish(claim, skill: [0.4, 0.9, 0.7][index], assignments: assignments)
    }
  }

  /// Records epochs and results of a run that predicts the true class with probability `skill`.
  private func finish(_ claim: RunClaim, skill: Float, assignments: [Assignment]) throws {
    let run = claim.run
    for epoch in 0..<3 {
      try store.recordEpoch(claim, EpochRecord(
        epoch: epoch, trainLoss: 1.5 - Double(epoch) * 0.3, trainMetric: 0.5 + Double(epoch) * 0.15,
        validationLoss: 1.6 - Double(epoch) * 0.2, validationMetric: Double(skill) - 0.1 * Double(2 - epoch), seconds: 1))
    }
    var predictions: [PredictionRecord] = []
    for (index, item) in assignments.enumerated() where item.subset != .train {
      // Every third image is confidently wrong (predicted as the next class); the weak run
      // (skill below 0.5) is wrong on two in three.
      let wrong = index % 3 == 0 || (skill < 0.5 && index % 3 == 1)
      let predicted = wrong ? (item.label + 1) % 3 : item.label
      var probabilities = [Float](repeating: (1 - skill) / 2, count: 3)
      probabilities[predicted] = skill
      predictions.append(PredictionRecord(subset: item.subset, imageID: item.path, path: item.path, label: item.label, probabilities: probabilities))
    }
    // Unlabelled images: runs 1 and 3 predict the same ids (class id % 3 with 0.7 and 0.5),
    // run 2 a different set.
    for id in 1...5 {
      let top = 0.8 - 0.1 * Float(run)
      var probabilities = [Float](repeating: (1 - top) / 2, count: 3)
      probabilities[id % 3] = top
      predictions.append(PredictionRecord(subset: .unlabelled, imageID: String(id * 10 - (run == 2 ? 1 : 0)), path: "test/\(id).png",
                                          label: nil, probabilities: probabilities))
    }
    let checkpoint = folder.appendingPathComponent("run-\(run).safetensors")
    try Checkpoint.writeSafetensors([(name: "features.0.weight", tensor: Tensor(shape: [3, 3, 3, 4], values: (0..<108).map { Float($0) }))],
                                    metadata: [CheckpointLayoutTag.key: CheckpointLayoutTag.podium], to: checkpoint)
    let test = predictions.filter { $0.subset == .test }
    let matrix = ClassificationMetrics(probabilities: test.flatMap(\.probabilities), labels: test.map { $0.label! }, classes: 3).confusion
    try store.completeRun(claim, RunCompletion(
      outcome: .done, validationMetric: Double(skill), testMetric: Double(skill) - 0.05, metrics: nil,
      confusion: [.test: matrix], predictions: predictions, artifacts: [.checkpoint: checkpoint.path]))
  }

  func remove() { try? FileManager.default.removeItem(at: folder) }
}

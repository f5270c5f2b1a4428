import Backbones
import Datasets
import Dispatch
import Engine
import Foundation

/// Times whole backbones: what `podium bench --backbone` prints.
///
/// `infer` is an evaluation-mode forward; `train` a forward, softmax cross-entropy,
/// backward and SGD-momentum step with every layer trainable; `finetune` the same with only
/// the last stage and the classifier trainable and the rest frozen in evaluation mode (as
/// PyTorch with `requires_grad=False`). Input is seeded random images at the backbone's
/// input size with a 1000-class head; one warm-up step, then the median of `steps` timed
/// steps.
public struct BackboneBenchmark {
  public enum Mode: String, CaseIterable, Sendable {
    case infer, train, finetune
  }

  /// One measurement; encodes as `{"backbone", "mode", "batch", "images_per_second", "peak_rss_mb"}`.
  public struct Result: Encodable, Equatable {
    public var backbone: String
    public var mode: String
    public var batch: Int
    public var imagesPerSecond: Double
    public var peakRSSMegabytes: Double
    /// With ``BackboneBenchmark/photos``: the share of the timed steps spent waiting for
    /// the loader (0 when prefetching keeps up).
    public var dataWaitFraction: Double?

    enum CodingKeys: String, CodingKey {
      case backbone, mode, batch
      case imagesPerSecond = "images_per_second"
      case peakRSSMegabytes = "peak_rss_mb"
      case dataWaitFraction = "data_wait_fraction"
    }
  }

  public var backbone: BackboneName
  public var mode: Mode
  public var batch: Int
  public var steps: Int
  /// When true, batches come from the loader (decoding and augmenting generated 500×375
  /// JPEGs, prefetched) instead of a fixed random tensor, and the wait for data is timed.
  public var photos = false

  public init(backbone: BackboneName, mode: Mode, batch: Int, steps: Int = 5) {
    (self.backbone, self.mode, self.batch, self.steps) = (backbone, mode, batch, steps)
  }

  /// Builds the network, runs the warm-up and timed steps, and reports the median rate.
  public func run() throws -> Result {
    if photos { return try runOnPhotos() }
    let model = Backbone(backbone, seed: 1)
    var rng = SeededGenerator(seed: 2)
    let size = model.preprocessing.inputSize
    let images = Tensor.randomUniform(shape: [batch, size, size, 3], bound: 2, rng: &rng)
    let labels = (0..<batch).map { _ in Int(rng.next() % UInt64(model.classCount)) }
    let optimizer = prepare(model)
    let step = { try self.step(model, optimizer, images, labels) }
    try step()  // warm-up
    var times: [Double] = []
    for _ in 0..<steps {
      let start = DispatchTime.now().uptimeNanoseconds
      try step()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let median = times.sorted()[times.count / 2]
    return Result(backbone: backbone.rawValue, mode: mode.rawValue, batch: batch,
                  imagesPerSecond: Double(batch) / median, peakRSSMegabytes: Self.peakResidentMegabytes(), dataWaitFraction: nil)
  }

  /// Steps fed by the batch loader over generated photos; the loader prefetches while the
  /// model computes, and the time `next()` blocks is the time the model waited for data.
  private func runOnPhotos() throws -> Result {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-bench-photos-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try SyntheticPhotos.write(count: batch * (steps + 1), to: folder)
    let dataset = try DatasetAdapter.imageFolder.load(root: folder)
    let model = Backbone(backbone, seed: 1)
    let loader = BatchLoader(dataset: dataset, samples: dataset.samples, batchSize: batch, preprocessing: model.preprocessing,
                             augmentation: mode == .infer ? .none : .light, seed: 1, cache: nil)
    let optimizer = prepare(model)
    let batches = loader.epoch(0, shuffle: true).makeIterator()
    var waited = 0.0, times: [Double] = []
    for step in 0...steps {
      let start = DispatchTime.now().uptimeNanoseconds
      guard let next = batches.next() else { break }
      let ready = DispatchTime.now().uptimeNanoseconds
      try self.step(model, optimizer, next.images, next.labels)
      let end = DispatchTime.now().uptimeNanoseconds
      if step > 0 {  // step 0 is the warm-up (the loader starts cold too)
        waited += Double(ready - start) / 1e9
        times.append(Double(end - start) / 1e9)
      }
    }
    let median = times.sorted()[times.count / 2]
    return Result(backbone: backbone.rawValue, mode: mode.rawValue, batch: batch, imagesPerSecond: Double(batch) / median,
                  peakRSSMegabytes: Self.peakResidentMegabytes(), dataWaitFraction: waited / times.reduce(0, +))
  }

  private func prepare(_ model: Backbone) -> SGD? {
    switch mode {
    case .infer:
      model.setTraining(false)
      return nil
    case .train:
      model.setTraining(true)
    case .finetune:
      model.freeze(allBut: 1)
      model.setTraining(true)
    }
    return SGD(model.network.trainableParameters, learningRate: 0.01, momentum: 0.9)
  }

  private func step(_ model: Backbone, _ optimizer: SGD?, _ images: Tensor, _ labels: [Int]) throws {
    guard let optimizer else {
      _ = try GradientRecording.withoutGradients { try model.network(images) }
      return
    }
    let logits = try GradientRecording.withoutInputGradients { try model.network(images) }
    var dLogits = Tensor(shape: logits.shape)
    _ = logits.withUnsafeBufferPointer { x in
      dLogits.withUnsafeMutableBufferPointer { d in
        softmaxCrossEntropy(logits: x.baseAddress!, labels: labels, classes: logits.shape[1], dLogits: d.baseAddress!)
      }
    }
    _ = model.network.backward(dLogits, needsInputGradient: false)
    optimizer.step()
    model.network.zeroGradients()
  }

  /// The process's peak resident set (`VmHWM` in `/proc/self/status`), in MB; 0 where unknown.
  public static func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
      let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kilobytes / 1024
  }
}

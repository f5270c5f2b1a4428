import Backbones
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

    enum CodingKeys: String, CodingKey {
      case backbone, mode, batch
      case imagesPerSecond = "images_per_second"
      case peakRSSMegabytes = "peak_rss_mb"
    }
  }

  public var backbone: BackboneName
  public var mode: Mode
  public var batch: Int
  public var steps: Int

  public init(backbone: BackboneName, mode: Mode, batch: Int, steps: Int = 5) {
    (self.backbone, self.mode, self.batch, self.steps) = (backbone, mode, batch, steps)
  }

  /// Builds the network, runs the warm-up and timed steps, and reports the median rate.
  public func run() throws -> Result {
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
                  imagesPerSecond: Double(batch) / median, peakRSSMegabytes: Self.peakResidentMegabytes())
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
    let logits = try model.network(images)
    guard let optimizer else { return }
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

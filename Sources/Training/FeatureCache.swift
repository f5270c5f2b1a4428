import Backbones
import Datasets
import Engine
import Foundation
import Imaging

/// Augmented passes over the training images whose features are cached beside the plain
/// ones (Keras' "bottleneck features" recipe with augmentation): `count` copies, each drawn
/// with `augmentation` from its own seed.
public struct AugmentedCopies: Sendable {
  public var count: Int
  public var augmentation: Augmentation
  /// The preset's name, part of the cache key.
  public var name: String
  public var seed: UInt64

  public init(count: Int, augmentation: Augmentation, name: String, seed: UInt64) {
    (self.count, self.augmentation, self.name, self.seed) = (count, augmentation, name, seed)
  }
}

/// Pooled backbone features computed once and kept on disk, so a sweep over heads pays for
/// one extraction: the `features` strategy's cache.
///
/// An entry is keyed by the backbone, the SHA-256 of its weights file, the preprocessing,
/// the exact list of images (so the split is part of the key) and the number of augmented
/// copies; it is a `.safetensors` file with the `[N, featureWidth]` features and the labels.
public final class FeatureCache {
  public let folder: URL
  /// Images this cache object sent through a trunk (0 when every request was a hit).
  public private(set) var extractedImages = 0

  /// A cache in `folder` (default `~/.cache/podium/features`).
  public init(folder: URL? = nil) {
    self.folder = folder ?? WeightLocator().home.appendingPathComponent(".cache/podium/features")
  }

  /// Features (`[N, D]`) and labels of `samples` through the frozen trunk of `backbone` —
  /// its pooled features, or the flattened activations after the stage `stage` — from the
  /// cache, or computed with the network `makeBackbone` returns (called only on a miss) and
  /// stored. With `copies`, the rows of each augmented pass follow the plain ones.
  public func features(
    of samples: [Dataset.Sample], in dataset: Dataset, backbone name: BackboneName, stage: String? = nil, preprocessing: Preprocessing,
    weightsDigest: String, copies: AugmentedCopies? = nil, batchSize: Int, makeBackbone: () throws -> Backbone
  ) throws -> (features: Tensor, labels: [Int], samples: [Dataset.Sample]) {
    let key = cacheKey(samples, in: dataset, backbone: name, stage: stage, preprocessing: preprocessing, weightsDigest: weightsDigest,
                       copies: copies)
    let file = folder.appendingPathComponent("\(name.rawValue)-\(key.prefix(16)).safetensors")
    if let cached = try? Checkpoint(contentsOf: file), let paths = cached.metadata["paths"] {
      let kept = try JSONDecoder().decode([String].self, from: Data(paths.utf8))
      let byPath = Dictionary(samples.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
      let labels = try cached.tensor(named: "labels").scalars.map { Int($0) }
      return (try cached.tensor(named: "features"), labels, kept.compactMap { byPath[$0] })
    }
    let backbone = try makeBackbone()
    let (features, labels, kept) = try extract(samples, in: dataset, backbone: backbone, stage: stage, preprocessing: preprocessing, copies: copies,
                                               batchSize: batchSize)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let paths = String(decoding: try JSONEncoder().encode(kept.map(\.path)), as: UTF8.self)
    try Checkpoint.writeSafetensors(
      [(name: "features", tensor: features), (name: "labels", tensor: Tensor(shape: [labels.count], values: labels.map(Float.init)))],
      metadata: ["backbone": backbone.name.rawValue, "weights_sha256": weightsDigest, "paths": paths], to: file)
    return (features, labels, kept)
  }

  private func extract(
    _ samples: [Dataset.Sample], in dataset: Dataset, backbone: Backbone, stage: String?, preprocessing: Preprocessing, copies: AugmentedCopies?,
    batchSize: Int
  ) throws -> (Tensor, [Int], [Dataset.Sample]) {
    backbone.setTraining(false)
    let plain = BatchLoader(dataset: dataset, samples: samples, batchSize: batchSize, preprocessing: preprocessing, cache: nil)
    var passes = [(loader: plain, epoch: 0)]
    if let copies, copies.count > 0 {
      let augmented = BatchLoader(dataset: dataset, samples: samples, batchSize: batchSize, preprocessing: preprocessing,
                                  augmentation: copies.augmentation, seed: copies.seed, cache: nil)
      passes += (1...copies.count).map { (augmented, $0) }
    }
    var values: [Float] = [], labels: [Int] = [], kept: [Dataset.Sample] = []
    for (loader, epoch) in passes {
      for batch in loader.epoch(epoch, shuffle: false) where !batch.samples.isEmpty {
        let output = try GradientRecording.withoutGradients {
          try stage.map { try backbone.activations(batch.images, after: $0) } ?? backbone.features(batch.images)
        }
        values += output.scalars
        labels += batch.labels
        kept += batch.samples
        extractedImages += batch.samples.count
      }
    }
    return (Tensor(shape: [kept.count, kept.isEmpty ? backbone.featureWidth : values.count / kept.count], values: values), labels, kept)
  }

  /// The entry's key: backbone, stage, weights, preprocessing, augmented copies, and every image by absolute path,
  /// size and modification time, so a file rewritten under the same name (a regenerated
  /// dataset, another dataset with the same layout) is never served stale features.
  private func cacheKey(_ samples: [Dataset.Sample], in dataset: Dataset, backbone: BackboneName, stage: String?,
                        preprocessing: Preprocessing, weightsDigest: String, copies: AugmentedCopies?) -> String {
    let files = samples.map { sample -> String in
      let url = dataset.url(of: sample)
      var status = stat()
      guard stat(url.path, &status) == 0 else { return url.path }
      return "\(url.path)|\(status.st_size)|\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    }
    let description = "\(backbone.rawValue)|\(stage ?? "pooled")|\(weightsDigest)|\(preprocessing)|copies=\(copies.map { "\($0.count) \($0.name) \($0.seed)" } ?? "0")|" + files.joined(separator: "\n")
    return SHA256Digest.hex(of: description)
  }
}

/// Batches over features held in memory, shuffled per epoch by a seed.
public struct FeatureBatches: BatchSource {
  public var features: Tensor
  public var labels: [Int]
  public var samples: [Dataset.Sample]
  public var batchSize: Int
  public var seed: UInt64

  public init(features: Tensor, labels: [Int], samples: [Dataset.Sample], batchSize: Int, seed: UInt64) {
    (self.features, self.labels, self.samples, self.batchSize, self.seed) = (features, labels, samples, batchSize, seed)
  }

  public var batchCount: Int { (labels.count + batchSize - 1) / batchSize }

  public func epoch(_ epoch: Int, shuffle: Bool) -> AnySequence<Batch> {
    let order = epochOrder(labels.count, seed: seed, epoch: epoch, shuffle: shuffle)
    let width = features.shape[1], values = features.scalars
    let batches = stride(from: 0, to: order.count, by: batchSize).map { start -> Batch in
      let rows = Array(order[start..<min(start + batchSize, order.count)])
      var chunk: [Float] = []
      chunk.reserveCapacity(rows.count * width)
      for row in rows { chunk += values[(row * width)..<((row + 1) * width)] }
      return Batch(images: Tensor(shape: [rows.count, width], values: chunk), labels: rows.map { labels[$0] },
                   samples: rows.map { samples[$0] }, failures: [])
    }
    return AnySequence(batches)
  }
}

/// A classifier head on cached features: linear softmax, or an MLP with one hidden layer
/// and dropout.
public final class HeadModel: TrainableModel {
  public let network: Sequential
  public let classCount: Int
  public var trainingNetwork: any Layer { network }

  /// A linear head (`hidden` nil) or an MLP `featureWidth → hidden → classes`; the layer
  /// that outputs the classes starts as `initialization` says (an MLP's hidden layer is
  /// always drawn uniformly, so its units differ).
  public init(featureWidth: Int, classes: Int, hidden: Int? = nil, dropout: Float = 0.5, initialization: LinearInitialization = .uniform,
              seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    if let hidden {
      network = Sequential([Linear(inFeatures: featureWidth, outFeatures: hidden, rng: &rng), Activation(.relu),
                            Dropout(dropout, seed: rng.next()),
                            Linear(inFeatures: hidden, outFeatures: classes, initialization: initialization, rng: &rng)])
    } else {
      network = Sequential([Linear(inFeatures: featureWidth, outFeatures: classes, initialization: initialization, rng: &rng)])
    }
    classCount = classes
  }

  public func setTraining(_ training: Bool) { network.setTraining(training) }
}

/// A backbone's own classifier as a model on its pooled features: training it trains the
/// backbone's classifier in place (fine-tuning's head phase on cached features).
final class ClassifierHead: TrainableModel {
  let network: Sequential
  let classCount: Int
  var trainingNetwork: any Layer { network }

  init(_ backbone: Backbone) {
    network = Sequential([backbone.classifier])
    classCount = backbone.classCount
  }

  func setTraining(_ training: Bool) { network.setTraining(training) }
}

/// A backbone's trainable top on cached activations of its frozen stages (fine-tuning's
/// second phase without augmentation). Modes go through the backbone, so frozen stages stay
/// in evaluation mode.
public final class TopModel: TrainableModel {
  public let top: BackboneTop
  public var trainingNetwork: any Layer { top }
  public var classCount: Int { top.backbone.classCount }

  public init(_ top: BackboneTop) { self.top = top }

  public func setTraining(_ training: Bool) { top.backbone.setTraining(training) }
}

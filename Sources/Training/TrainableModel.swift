import Backbones
import Datasets
import Engine

/// A network the trainer can train: Podium's backbones, a head on cached features, or a
/// backbone's top on cached activations of its frozen stages.
public protocol TrainableModel: AnyObject {
  /// Input batch to logits `[N, classCount]`; parameter names are the checkpoint's.
  var trainingNetwork: any Layer { get }
  var classCount: Int { get }
  /// Training or evaluation mode (a backbone keeps its frozen stages in evaluation).
  func setTraining(_ training: Bool)
}

extension Backbone: TrainableModel {
  public var trainingNetwork: any Layer { network }
}

/// Where batches come from: the image loader, or features held in memory.
public protocol BatchSource {
  var batchCount: Int { get }
  /// The batches of one epoch, in a seeded order when `shuffle` is true.
  func epoch(_ epoch: Int, shuffle: Bool) -> AnySequence<Batch>
}

extension BatchLoader: BatchSource {}

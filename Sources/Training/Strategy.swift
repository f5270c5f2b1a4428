import Backbones

/// How a backbone is trained for a new task.
public enum Strategy: String, CaseIterable, Codable, Sendable {
  /// Random initialisation, every layer trainable.
  case scratch
  /// The pretrained trunk frozen (its batch norms in evaluation mode); only a new head trains.
  case features
  /// A new head on the frozen trunk first, then the top `unfreeze` stages trained too with
  /// a smaller learning rate (SGD with momentum 0.9, as the seed recipe).
  case finetune

  /// False where the combination cannot run: every pretrained strategy needs pretrained weights.
  public func applies(to backbone: BackboneName) -> Bool {
    self == .scratch || backbone.hasPretrainedWeights
  }
}

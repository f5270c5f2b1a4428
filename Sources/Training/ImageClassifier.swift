import Backbones
import Engine
import Foundation
import Imaging

/// Classifies image files with a pretrained backbone and its ImageNet head: what
/// `podium classify` runs.
public struct ImageClassifier {
  /// One class and its probability.
  public struct Prediction: Equatable, Codable {
    public var index: Int
    public var name: String
    public var prob: Float
  }

  public let backbone: Backbone

  /// Loads `weights` into a fresh `name` backbone with its 1000-class head.
  ///
  /// - Throws: ``CheckpointError``, ``ParameterLoadError`` or ``ShapeError`` naming the file
  ///   or parameter.
  public init(_ name: BackboneName, weights: URL) throws {
    backbone = Backbone(name)
    try backbone.loadPretrained(Checkpoint(contentsOf: weights))
    backbone.setTraining(false)
  }

  /// The `k` most probable ImageNet classes for the image at `url`.
  ///
  /// - Throws: ``DecodeError`` naming the file when it is not a usable image.
  public func classify(_ url: URL, top k: Int = 5) throws -> [Prediction] {
    let image = FloatImage(try ImageDecoder.decode(contentsOf: url))
    let logits = try GradientRecording.withoutGradients { try backbone.network(image.preprocessed(for: backbone.preprocessing)) }
    let probabilities = softmaxRows(logits)
    return probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(k).map { index in
      Prediction(index: index, name: index < ImageNetClasses.names.count ? ImageNetClasses.names[index] : "class \(index)",
                 prob: probabilities[index])
    }
  }
}

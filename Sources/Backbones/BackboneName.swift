import Engine
import Imaging

/// The backbones Podium offers, by the names used on the command line and in sweep specs.
public enum BackboneName: String, CaseIterable, Sendable, Codable {
  case smallCNN = "small_cnn"
  case vgg16
  case vgg16BN = "vgg16_bn"
  case resnet18, resnet34, resnet50
  case mobilenetV2 = "mobilenet_v2"
  case efficientNetLite0 = "efficientnet_lite0"
  case efficientNetLite1 = "efficientnet_lite1"
  case efficientNetLite2 = "efficientnet_lite2"

  /// False for the small CNN, which only trains from scratch.
  public var hasPretrainedWeights: Bool { self != .smallCNN }

  /// The published network's input preprocessing.
  public var preprocessing: Preprocessing {
    switch self {
    case .smallCNN: return .smallCNN(inputSize: 150)
    case .efficientNetLite0, .efficientNetLite1, .efficientNetLite2: return .efficientNetLite(inputSize: EfficientNetLite.variant(self)!.inputSize)
    default: return .torchvisionImageNet
    }
  }

  /// Builds the published architecture with `classes` outputs and seeded random weights.
  public func architecture(classes: Int = 1000, rng: inout SeededGenerator) -> Architecture {
    switch self {
    case .smallCNN: return SmallCNN.make(classes: classes, rng: &rng)
    case .vgg16: return VGG.make(batchNorm: false, classes: classes, rng: &rng)
    case .vgg16BN: return VGG.make(batchNorm: true, classes: classes, rng: &rng)
    case .resnet18: return ResNet.make(.resnet18, classes: classes, rng: &rng)
    case .resnet34: return ResNet.make(.resnet34, classes: classes, rng: &rng)
    case .resnet50: return ResNet.make(.resnet50, classes: classes, rng: &rng)
    case .mobilenetV2: return MobileNetV2.make(classes: classes, rng: &rng)
    case .efficientNetLite0, .efficientNetLite1, .efficientNetLite2:
      return EfficientNetLite.make(EfficientNetLite.variant(self)!, classes: classes, rng: &rng)
    }
  }
}

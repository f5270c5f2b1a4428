import Engine

/// ResNet-18, -34 and -50 (He et al., "Deep Residual Learning for Image Recognition",
/// 2015), as torchvision builds them: the v1.5 bottleneck (stride on the 3×3 convolution),
/// parameter names `conv1`, `bn1`, `layer1.0.conv1`, `layer1.0.downsample.0`, `fc`.
/// Reference: torchvision/models/resnet.py.
public enum ResNet {
  /// The depths Podium offers.
  public enum Depth: Sendable {
    case resnet18, resnet34, resnet50

    /// Blocks per stage.
    public var blockCounts: [Int] {
      switch self {
      case .resnet18: return [2, 2, 2, 2]
      case .resnet34, .resnet50: return [3, 4, 6, 3]
      }
    }

    /// True for the 1×1–3×3–1×1 bottleneck block (expansion 4).
    public var usesBottleneck: Bool { self == .resnet50 }
  }

  /// Builds the network. `widths` are the stages' base widths (64, 128, 256, 512 in the
  /// published networks; smaller in tests).
  public static func make(
    _ depth: Depth, widths: [Int] = [64, 128, 256, 512], classes: Int = 1000, rng: inout SeededGenerator
  ) -> Architecture {
    let expansion = depth.usesBottleneck ? 4 : 1
    var children: [(String, any Layer)] = [
      ("conv1", Conv2D(inChannels: 3, outChannels: widths[0], kernel: 7, stride: 2, padding: .symmetric(3), bias: false, rng: &rng)),
      ("bn1", BatchNorm(channels: widths[0])), ("relu", Activation(.relu)),
      ("maxpool", MaxPool2D(kernel: 3, stride: 2, padding: .symmetric(1))),
    ]
    var inChannels = widths[0]
    for (stage, (width, blocks)) in zip(widths, depth.blockCounts).enumerated() {
      var layer: [any Layer] = []
      for index in 0..<blocks {
        let stride = index == 0 && stage > 0 ? 2 : 1
        layer.append(block(depth, inChannels, width, stride: stride, rng: &rng))
        inChannels = width * expansion
      }
      children.append(("layer\(stage + 1)", Sequential(layer)))
    }
    children += [("avgpool", GlobalAvgPool()), ("fc", Linear(inFeatures: inChannels, outFeatures: classes, rng: &rng))]
    return Architecture(
      network: Sequential(named: children), featureWidth: inChannels, classifierPath: "fc",
      stages: [Stage("stem", ["conv1", "bn1"])] + (1...4).map { Stage("layer\($0)", ["layer\($0)"]) })
  }

  /// One basic or bottleneck block, with a 1×1 strided projection shortcut when the shape changes.
  private static func block(_ depth: Depth, _ inChannels: Int, _ width: Int, stride: Int, rng: inout SeededGenerator) -> Residual {
    let out = depth.usesBottleneck ? width * 4 : width
    func conv(_ i: Int, _ o: Int, _ k: Int, _ s: Int) -> Conv2D {
      Conv2D(inChannels: i, outChannels: o, kernel: k, stride: s, padding: .symmetric(k / 2), bias: false, rng: &rng)
    }
    let body: Sequential
    if depth.usesBottleneck {
      body = Sequential(named: [
        ("conv1", conv(inChannels, width, 1, 1)), ("bn1", BatchNorm(channels: width)), ("relu1", Activation(.relu)),
        ("conv2", conv(width, width, 3, stride)), ("bn2", BatchNorm(channels: width)), ("relu2", Activation(.relu)),
        ("conv3", conv(width, out, 1, 1)), ("bn3", BatchNorm(channels: out)),
      ])
    } else {
      body = Sequential(named: [
        ("conv1", conv(inChannels, width, 3, stride)), ("bn1", BatchNorm(channels: width)), ("relu1", Activation(.relu)),
        ("conv2", conv(width, width, 3, 1)), ("bn2", BatchNorm(channels: width)),
      ])
    }
    let shortcut = stride != 1 || inChannels != out
      ? Sequential([conv(inChannels, out, 1, stride), BatchNorm(channels: out)]) : nil
    return Residual(body: body, shortcut: shortcut, activation: Activation(.relu), names: ("", "downsample", "relu"))
  }
}

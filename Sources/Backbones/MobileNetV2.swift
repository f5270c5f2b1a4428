import Engine

/// MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
/// 2018), as torchvision builds it: `features.0` (3×3 stride-2 conv, BN, ReLU6), inverted
/// residual blocks `features.1…17` (`conv.0` 1×1 expansion, `conv.1` depthwise 3×3,
/// `conv.2` 1×1 projection, `conv.3` BN; the identity shortcut when stride is 1 and the
/// width is unchanged), `features.18` (1×1 to 1280), and `classifier.1` after dropout 0.2.
/// Reference: torchvision/models/mobilenetv2.py.
public enum MobileNetV2 {
  /// (expansion t, width c, repeats n, first stride s) of each stage.
  static let settings: [(t: Int, c: Int, n: Int, s: Int)] = [
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
  ]

  /// `v` rounded to the nearest multiple of 8, not below 8 nor below 90% of `v`
  /// (torchvision's `_make_divisible`).
  static func makeDivisible(_ v: Double, _ divisor: Int = 8) -> Int {
    var rounded = max(divisor, Int(v + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * v { rounded += divisor }
    return rounded
  }

  /// Builds the network; `widthMultiplier` scales every width but the last (`lastChannel`,
  /// 1280 in the published network).
  public static func make(
    widthMultiplier: Double = 1, lastChannel: Int = 1280, classes: Int = 1000, rng: inout SeededGenerator
  ) -> Architecture {
    var inChannels = makeDivisible(32 * widthMultiplier)
    var features: [any Layer] = [convBNReLU6(3, inChannels, kernel: 3, stride: 2, rng: &rng)]
    var stagePaths: [[String]] = [["features.0"]]
    for setting in settings {
      let out = makeDivisible(Double(setting.c) * widthMultiplier)
      var paths: [String] = []
      for index in 0..<setting.n {
        paths.append("features.\(features.count)")
        features.append(invertedResidual(inChannels, out, stride: index == 0 ? setting.s : 1, expansion: setting.t, rng: &rng))
        inChannels = out
      }
      stagePaths.append(paths)
    }
    stagePaths.append(["features.\(features.count)"])
    features.append(convBNReLU6(inChannels, lastChannel, kernel: 1, stride: 1, rng: &rng))
    let network = Sequential(named: [
      ("features", Sequential(features)), ("pool", GlobalAvgPool()),
      ("classifier", Sequential([Dropout(0.2, seed: rng.next()), Linear(inFeatures: lastChannel, outFeatures: classes, rng: &rng)])),
    ])
    let names = ["stem"] + (1...settings.count).map { "stage\($0)" } + ["head"]
    return Architecture(
      network: network, featureWidth: lastChannel, classifierPath: "classifier.1",
      stages: zip(names, stagePaths).map(Stage.init))
  }

  /// torchvision's `Conv2dNormActivation`: conv (no bias), BN, ReLU6, named `0`, `1`, `2`.
  static func convBNReLU6(_ i: Int, _ o: Int, kernel: Int, stride: Int, groups: Int = 1, rng: inout SeededGenerator) -> Sequential {
    Sequential([
      Conv2D(inChannels: i, outChannels: o, kernel: kernel, stride: stride, padding: .symmetric((kernel - 1) / 2),
             groups: groups, bias: false, rng: &rng),
      BatchNorm(channels: o), Activation(.relu6),
    ])
  }

  private static func invertedResidual(_ i: Int, _ o: Int, stride: Int, expansion: Int, rng: inout SeededGenerator) -> any Layer {
    let hidden = i * expansion
    var layers: [any Layer] = []
    if expansion != 1 { layers.append(convBNReLU6(i, hidden, kernel: 1, stride: 1, rng: &rng)) }
    layers.append(convBNReLU6(hidden, hidden, kernel: 3, stride: stride, groups: hidden, rng: &rng))
    layers.append(Conv2D(inChannels: hidden, outChannels: o, kernel: 1, bias: false, rng: &rng))
    layers.append(BatchNorm(channels: o))
    let body = Sequential(named: [("conv", Sequential(layers))])
    return stride == 1 && i == o ? Residual(body: body, names: ("", "shortcut", "activation")) : body
  }
}

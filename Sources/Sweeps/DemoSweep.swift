import Backbones
import Datasets
import Training

extension SweepSpec {
  /// The demo's default sweep on the generated set at `root`: small_cnn from scratch; with
  /// pretrained weights, efficientnet_lite0 as a feature extractor (linear and MLP heads)
  /// and fine-tuned (without augmentation, so its head phase reuses the cached features).
  /// `quick` keeps one value of each and two epochs on small images.
  public static func demo(name: String, root: String, pretrained: Bool, quick: Bool) -> SweepSpec {
    let rates: [ParameterValue] = quick ? [.number(0.003)] : [.number(0.003), .number(0.001)]
    let heads: [ParameterValue] = quick ? [.text("linear")] : [.text("linear"), .text("mlp")]
    let epochs = quick ? [2, 2, 1] : [40, 10, 6]
    let (small, large, headEpochs) = quick ? (32, 64, 1) : (64, 160, 5)
    func grid(_ backbone: BackboneName, _ strategy: String, _ rest: [(Hyperparameter, [ParameterValue])]) -> [(Hyperparameter, [ParameterValue])] {
      [(.backbone, [.text(backbone.rawValue)]), (.strategy, [.text(strategy)])] + rest
    }
    var grids = [grid(.smallCNN, "scratch", [(.lr, rates), (.imageSize, [number(small)]), (.epochs, [number(epochs[0])])])]
    if pretrained {
      grids.append(grid(.efficientNetLite0, "features", [(.lr, rates), (.head, heads), (.imageSize, [number(large)]), (.epochs, [number(epochs[1])])]))
      grids.append(grid(.efficientNetLite0, "finetune", [(.lr, [.number(0.003)]), (.imageSize, [number(large)]), (.headEpochs, [number(headEpochs)]),
                                             (.epochs, [number(epochs[2])]), (.augment, [.text("none")])]))
    }
    let dataset = DatasetSection(adapter: .naturalImages, root: root, name: name, options: [:],
                                 split: .fractions(.fractions(train: 0.5, validation: 0.25, test: 0.25)), seed: 0)
    var spec = SweepSpec(name: name, dataset: dataset)
    spec.grids = grids
    spec.fixed = [(.batchSize, .number(32)), (.augment, .text("light"))]
    return spec
  }

  private static func number(_ value: Int) -> ParameterValue { .number(Double(value)) }
}

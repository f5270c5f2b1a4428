import Datasets
import Engine
import Training

extension FeatureBatches {
  /// `count` six-wide feature vectors of three classes, each class lifted by 2 on its own two
  /// dimensions plus seeded noise: a problem a small head learns in a few epochs.
  static func separable(count: Int, seed: UInt64) -> FeatureBatches {
    var rng = SeededGenerator(seed: seed)
    var values: [Float] = [], labels: [Int] = [], samples: [Dataset.Sample] = []
    for index in 0..<count {
      let label = index % 3
      values += (0..<6).map { dimension in (dimension / 2 == label ? 2 : 0) + rng.nextNormal() * 0.5 }
      labels.append(label)
      samples.append(Dataset.Sample(path: "\(index).png", label: label))
    }
    return FeatureBatches(features: Tensor(shape: [count, 6], values: values), labels: labels, samples: samples, batchSize: 16, seed: seed)
  }
}

import Foundation

/// Softmax cross-entropy with label smoothing and optional class weights, fused with its
/// gradient.
///
/// Shapes: `logits` `[N, K]`, `labels` N class indices, `classWeights` K values or nil (all 1).
/// As PyTorch's `cross_entropy(weight:, label_smoothing:)`: row `n` with label `y` costs
/// `(1 − ε)·w[y]·(−log p[y]) + ε/K·Σ_j w[j]·(−log p[j])`, and the loss is the sum over rows
/// divided by `Σ_n w[labels[n]]` (the batch mean when unweighted). `dLogits` is written in
/// the same pass. Computed with the log-sum-exp shift, in Double per row.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html
///
/// - Returns: the loss.
/// - Precondition: every label is in `0..<K`; `classWeights` has K positive values.
public func softmaxCrossEntropy(
  logits: UnsafePointer<Float>, labels: [Int], classes k: Int, labelSmoothing epsilon: Float = 0,
  classWeights: [Float]? = nil, dLogits: UnsafeMutablePointer<Float>?
) -> Float {
  precondition(classWeights == nil || classWeights!.count == k, "\(classWeights!.count) class weights for \(k) classes")
  let weights = (classWeights ?? [Float](repeating: 1, count: k)).map(Double.init)
  let smoothing = Double(epsilon) / Double(k), totalWeight = weights.reduce(0, +)
  var normaliser = 0.0
  for label in labels {
    precondition(label >= 0 && label < k, "label \(label) is not in 0..<\(k)")
    normaliser += weights[label]
  }
  normaliser = max(normaliser, .leastNonzeroMagnitude)
  var total = 0.0
  for (row, label) in labels.enumerated() {
    let x = logits + row * k
    var maxLogit = x[0]
    for j in 1..<k { maxLogit = max(maxLogit, x[j]) }
    var sumExp = 0.0
    for j in 0..<k { sumExp += exp(Double(x[j] - maxLogit)) }
    let logSumExp = Double(maxLogit) + log(sumExp)
    // The row's weighted target t[j] = (1 − ε)·w[y]·[j = y] + ε/K·w[j], and its sum.
    let targetSum = (1 - Double(epsilon)) * weights[label] + smoothing * totalWeight
    for j in 0..<k {
      let target = smoothing * weights[j] + (j == label ? (1 - Double(epsilon)) * weights[label] : 0)
      let logProbability = Double(x[j]) - logSumExp
      total -= target * logProbability
      if let dLogits {
        dLogits[row * k + j] = Float((exp(logProbability) * targetSum - target) / normaliser)
      }
    }
  }
  return Float(total / normaliser)
}

/// Binary cross-entropy with logits, one independent sigmoid per value (one-vs-rest heads,
/// binary tasks), fused with its gradient.
///
/// Shapes: `logits` and `targets` `count` values each, targets in `[0, 1]`. The loss is the
/// mean of `max(x, 0) − x·t + log(1 + e^−|x|)` (stable for any x), and
/// `dLogits = (σ(x) − t) / count`.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html
public func binaryCrossEntropyWithLogits(
  logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int,
  dLogits: UnsafeMutablePointer<Float>?
) -> Float {
  var total = 0.0
  for i in 0..<count {
    let x = Double(logits[i]), t = Double(targets[i])
    total += max(x, 0) - x * t + log1p(exp(-abs(x)))
    if let dLogits {
      let sigmoid = x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
      dLogits[i] = Float((sigmoid - t) / Double(count))
    }
  }
  return Float(total / Double(max(count, 1)))
}

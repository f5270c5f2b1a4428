import Foundation

/// Softmax cross-entropy with label smoothing, fused with its gradient.
///
/// Shapes: `logits` `[N, K]`, `labels` N class indices. The target of row `n` is
/// `(1 − ε) · onehot(labels[n]) + ε / K`; the loss is the batch mean of
/// `−Σ target · log softmax(logits)`, and `dLogits = (softmax − target) / N`, written in
/// the same pass. Computed with the log-sum-exp shift, in Double per row.
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html
///
/// - Returns: the mean loss.
/// - Precondition: every label is in `0..<K`.
public func softmaxCrossEntropy(
  logits: UnsafePointer<Float>, labels: [Int], classes k: Int, labelSmoothing epsilon: Float = 0,
  dLogits: UnsafeMutablePointer<Float>?
) -> Float {
  let n = labels.count
  var total = 0.0
  for row in 0..<n {
    let label = labels[row]
    precondition(label >= 0 && label < k, "label \(label) is not in 0..<\(k)")
    let x = logits + row * k
    var maxLogit = x[0]
    for j in 1..<k { maxLogit = max(maxLogit, x[j]) }
    var sumExp = 0.0
    for j in 0..<k { sumExp += exp(Double(x[j] - maxLogit)) }
    let logSumExp = Double(maxLogit) + log(sumExp)
    let offTarget = Double(epsilon) / Double(k)
    var rowLoss = 0.0
    for j in 0..<k {
      let target = offTarget + (j == label ? 1 - Double(epsilon) : 0)
      let logProbability = Double(x[j]) - logSumExp
      rowLoss -= target * logProbability
      if let dLogits {
        dLogits[row * k + j] = Float((exp(logProbability) - target) / Double(n))
      }
    }
    total += rowLoss
  }
  return Float(total / Double(max(n, 1)))
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

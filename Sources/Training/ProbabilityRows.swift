import Engine
import Foundation

/// One-vs-rest scores as probabilities: each logit's sigmoid, each row then divided by its
/// sum (so metrics and submissions read them like softmax outputs).
func normalisedSigmoidRows(_ logits: Tensor) -> [Float] {
  let k = logits.shape[1], values = logits.scalars
  var out = [Float](repeating: 0, count: values.count)
  for row in 0..<logits.shape[0] {
    let sigmoids = values[(row * k)..<((row + 1) * k)].map { 1 / (1 + exp(-Double($0))) }
    let total = max(sigmoids.reduce(0, +), .leastNormalMagnitude)
    for (j, value) in sigmoids.enumerated() { out[row * k + j] = Float(value / total) }
  }
  return out
}

/// Row-wise softmax of `[N, K]` logits, in Double with the max shift.
func softmaxRows(_ logits: Tensor) -> [Float] {
  let k = logits.shape[1], values = logits.scalars
  var out = [Float](repeating: 0, count: values.count)
  for row in 0..<logits.shape[0] {
    let slice = values[(row * k)..<((row + 1) * k)]
    let top = Double(slice.max()!)
    let exps = slice.map { exp(Double($0) - top) }
    let total = exps.reduce(0, +)
    for (j, e) in exps.enumerated() { out[row * k + j] = Float(e / total) }
  }
  return out
}

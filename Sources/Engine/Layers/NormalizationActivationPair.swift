/// A batch norm and the ReLU or ReLU6 right after it, run forward as one pass where the
/// network records gradients (training), where ``ConvolutionChain`` cannot fold them: the
/// normalisation and the clamp are applied in the same pass over memory, so the batch norm's
/// own output is never written (one activation-sized buffer less at the peak of a training
/// step). Both layers keep exactly what they would have kept alone and the values are the
/// same, so their backward passes run as they are.
///
/// (A fused backward — the activation's mask applied inside the batch norm's two passes —
/// was tried and measured slower here: perf showed its loops full of shuffles and spills.)
struct NormalizationActivationPair {
  let normalization: BatchNorm
  let activation: Activation

  /// The pair at children `index` and `index + 1`, when those are a batch norm and an activation.
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    guard index + 1 < children.count, let normalization = children[index].layer as? BatchNorm,
      let activation = children[index + 1].layer as? Activation
    else { return nil }
    (self.normalization, self.activation) = (normalization, activation)
  }

  func forward(_ input: Tensor) throws -> Tensor {
    let output = try normalization.forward(input, clamp: activation.kind)
    activation.record(output: output)
    return output
  }
}

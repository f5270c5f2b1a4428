/// A batch norm and the ReLU or ReLU6 right after it, run as one where the network records
/// gradients (training), where ``ConvolutionChain`` cannot fold them. Forward, the
/// normalisation and the clamp are applied in the same pass over memory, so the batch norm's
/// own output is never written (one activation-sized buffer less at the peak of a training
/// step). Backward, the batch norm's two passes mask the incoming gradient row by row,
/// recomputing each value's normalised input, so the activation's pass (read its output and
/// the gradient, write the masked gradient) is never made. Values are bit for bit those of
/// the two layers run one after the other.
///
/// (An earlier fused backward was slower: its `SIMDMask` selects compiled to per-lane loops.)
struct NormalizationActivationPair {
  let normalization: BatchNorm
  let activation: Activation

  /// The pair at children `index` and `index + 1`, when those are a batch norm and an activation.
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    guard let (normalization, activation) = Activation.following(BatchNorm.self, in: children, at: index) else { return nil }
    (self.normalization, self.activation) = (normalization, activation)
  }

  /// Both layers' forward; `statistics` as ``BatchNorm``'s own forward takes them.
  func forward(_ input: Tensor, statistics: (mean: [Float], variance: [Float])? = nil) throws -> Tensor {
    let output = try normalization.forward(input, clamp: activation.kind, statistics: statistics)
    activation.record(output: output)
    return output
  }

  /// Both layers' backward from the gradient at the activation's output.
  func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    normalization.backward(dY, needsInputGradient: needsInputGradient, clamp: activation.kind)
  }
}

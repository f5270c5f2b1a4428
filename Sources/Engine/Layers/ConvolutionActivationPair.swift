/// A convolution with no batch norm after it and the ReLU or ReLU6 right after it (VGG's
/// layers), run as one: the clamp is the convolution's epilogue, applied with the bias to
/// each chunk of output while it is in cache (``Conv2D/forward(_:activation:)``), so the
/// activation's own pass over memory (read the convolution's output, write its own) is
/// never made and the unclamped output is never held. Where the network records gradients
/// the activation keeps the clamped output as if it had computed it, and backward is the two
/// layers' own. Values are bit for bit those of the two layers run one after the other.
struct ConvolutionActivationPair {
  let convolution: Conv2D
  let activation: Activation

  /// The pair at children `index` and `index + 1`, when those are a convolution and an activation.
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    guard let (convolution, activation) = Activation.following(Conv2D.self, in: children, at: index) else { return nil }
    (self.convolution, self.activation) = (convolution, activation)
  }

  /// Both layers' forward.
  func forward(_ input: Tensor) throws -> Tensor {
    let output = try convolution.forward(input, activation: activation.kind)
    activation.record(output: output)
    return output
  }
}

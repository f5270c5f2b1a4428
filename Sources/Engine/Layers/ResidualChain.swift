/// A residual block whose body ends in a convolution and a batch norm in evaluation mode,
/// run with the residual sum and the activation after it inside that convolution's
/// epilogue: the shortcut first, then the body up to its last convolution, which adds the
/// shortcut to each chunk of its output, folded batch norm applied, and clamps it while the
/// chunk is in cache (``Conv2D/forward(_:normalization:adding:activation:)``).
///
/// ``Residual`` runs this way whenever its forward pass records nothing (inference, frozen
/// stages): ResNet's blocks then save the pass over memory that reads the body's output and
/// the shortcut and writes their clamped sum.
struct ResidualChain {
  let block: Residual
  let body: Sequential
  /// The body's children before the last convolution.
  let leadingChildren: Int
  let chain: ConvolutionChain
  let activation: Activation?

  /// The chain for `block`, when its body is a ``Sequential`` whose last children are a
  /// convolution and a batch norm in evaluation mode with no activation of their own (or one
  /// ``Sequential`` child that is exactly those, as torchvision nests them), and its activation,
  /// if any, is a clamp.
  init?(_ block: Residual) {
    guard let body = block.body as? Sequential else { return nil }
    let activation = block.activation as? Activation
    guard block.activation == nil || activation != nil else { return nil }
    let children = body.children
    // The chain ends the body: its two children, or one child that nests them.
    let endings = (1...2).compactMap { taken -> (chain: ConvolutionChain, children: Int)? in
      let index = children.count - taken
      guard index >= 0, let found = ConvolutionChain.covering(children, at: index), found.children == taken,
        found.chain.activation == nil
      else { return nil }
      return found
    }
    guard let last = endings.first else { return nil }
    (self.block, self.body, self.activation) = (block, body, activation)
    (chain, leadingChildren) = (last.chain, children.count - last.children)
  }

  /// The block's output, recording nothing.
  func forward(_ input: Tensor) throws -> Tensor {
    let skip = try block.shortcut?.forward(input) ?? input
    let x = try body.forward(input, childrenBefore: leadingChildren)
    chain.discardRecordings()
    activation?.discardRecording()
    do {
      return try chain.convolution.forward(x, normalization: chain.normalization, adding: skip, activation: activation?.kind)
    } catch var error as ShapeError where error.context != Residual.sumContext {
      error.context = "\(body.children[leadingChildren].name): \(error.context)"
      throw error
    }
  }
}

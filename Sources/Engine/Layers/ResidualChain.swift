/// A residual block whose body ends in a convolution and a batch norm in evaluation mode,
/// run with the residual sum and the activation after it inside that convolution's
/// epilogue: the shortcut first, then the body up to its last convolution, which adds the
/// shortcut to each chunk of its output, folded batch norm applied, and clamps it while the
/// chunk is in cache (``Conv2D/forward(_:normalization:adding:activation:)``).
///
/// ``Residual`` runs this way whenever its forward pass records nothing (inference, frozen
/// stages): ResNet's blocks then save the pass over memory that reads the body's output and
/// the shortcut and writes their clamped sum. A body that is one inverted bottleneck
/// (MobileNetV2's and EfficientNet-Lite's inverted residuals) runs band by band
/// (``InvertedBottleneckChain``), the projection adding the shortcut to each band.
struct ResidualChain {
  let block: Residual
  let body: Sequential
  let activation: Activation?
  private let ending: Ending

  /// How the body runs up to the sum.
  private enum Ending {
    /// The whole body, band by band.
    case bottleneck(InvertedBottleneckChain)
    /// The body's first `leadingChildren` children, then the chain, which adds the shortcut.
    case convolution(ConvolutionChain, leadingChildren: Int)
  }

  /// The chain for `block`, when its activation, if any, is a clamp and its body is a
  /// ``Sequential`` that is one inverted bottleneck (or holds one child that is) whose
  /// projection has no activation, or whose last children are a convolution and a batch norm
  /// in evaluation mode with no activation of their own (or one ``Sequential`` child that is
  /// exactly those, as torchvision nests them).
  init?(_ block: Residual) {
    guard let body = block.body as? Sequential else { return nil }
    let activation = block.activation as? Activation
    guard block.activation == nil || activation != nil, let ending = Self.bottleneck(body) ?? Self.lastConvolution(body)
    else { return nil }
    (self.block, self.body, self.activation, self.ending) = (block, body, activation, ending)
  }

  /// True when the body runs band by band, as one inverted bottleneck.
  var runsInBands: Bool {
    if case .bottleneck = ending { return true }
    return false
  }

  /// The body as one inverted bottleneck, its own children or its one child's.
  private static func bottleneck(_ body: Sequential) -> Ending? {
    // torchvision nests MobileNetV2's layers in one child.
    let nested = body.children.count == 1 ? (body.children[0].layer as? Sequential)?.children : nil
    for children in [body.children, nested] {
      guard let children, let chain = InvertedBottleneckChain(children, at: 0), chain.length == children.count,
        chain.projection.activation == nil
      else { continue }
      return .bottleneck(chain)
    }
    return nil
  }

  /// The body's last two children (or its last child, nesting them) as the chain that takes the sum.
  private static func lastConvolution(_ body: Sequential) -> Ending? {
    let children = body.children
    for taken in 1...2 {
      let index = children.count - taken
      guard index >= 0, let found = ConvolutionChain.covering(children, at: index), found.children == taken,
        found.chain.activation == nil
      else { continue }
      return .convolution(found.chain, leadingChildren: index)
    }
    return nil
  }

  /// The block's output, recording nothing.
  func forward(_ input: Tensor) throws -> Tensor {
    let skip = try block.shortcut?.forward(input) ?? input
    activation?.discardRecording()
    switch ending {
    case .bottleneck(let chain):
      return try naming(body.children[0].name) {
        try chain.forward(input, adding: skip, activation: activation?.kind)
      }
    case .convolution(let chain, let leadingChildren):
      let x = try body.forward(input, childrenBefore: leadingChildren)
      return try naming(body.children[leadingChildren].name) {
        try chain.forward(x, adding: skip, activation: activation?.kind)
      }
    }
  }

  /// `body()`, its shape errors but the sum's prefixed with the name of the body's child that threw them.
  private func naming(_ child: String, _ body: () throws -> Tensor) throws -> Tensor {
    do {
      return try body()
    } catch var error as ShapeError where error.context != Residual.sumContext {
      error.context = "\(child): \(error.context)"
      throw error
    }
  }
}

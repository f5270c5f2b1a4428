/// MobileNet's inverted bottleneck — a 1×1 expansion, a depthwise convolution and a 1×1
/// projection, each a folded ``ConvolutionChain`` — run one band of output rows at a time,
/// when nothing is recorded.
///
/// The expanded activations are six times the block's input; run layer by layer, each is
/// written to memory, read back by the depthwise convolution, whose output is written and
/// read again by the projection. Band by band, the expansion computes just the input rows
/// the band's depthwise windows need, into a buffer sized to stay in the core's cache, and
/// the projection reads the depthwise rows from cache; only the block's input and output
/// go through memory. Bands overlap by the window's extra rows, which the expansion computes
/// twice. Each worker runs whole bands with single-threaded GEMMs. Reference: Sandler et
/// al., "MobileNetV2" (2018), §5 "memory efficient inference".
struct InvertedBottleneckChain {
  let expansion: ConvolutionChain?
  let depthwise: ConvolutionChain
  let projection: ConvolutionChain
  /// The children the chain stands for.
  let length: Int

  /// Floats of expanded rows one band may hold: 1 MiB, half a core's L2 (tests shrink it
  /// to get many bands from small images).
  nonisolated(unsafe) static var bandFloats = 1 << 18

  /// The bottleneck that starts at child `index`: an optional pointwise chain, a depthwise
  /// chain and a pointwise chain, with matching channels.
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    var found: [(chain: ConvolutionChain, children: Int)] = [], position = index
    while found.count < 3, let next = ConvolutionChain.covering(children, at: position) {
      found.append(next)
      position += next.children
    }
    // Without an expansion layer the bottleneck is the depthwise chain and the projection.
    let taken = found.first?.chain.convolution.isDepthwise == true ? Array(found.prefix(2)) : found
    let chains = taken.map(\.chain)
    let pointwise = { (chain: ConvolutionChain) in chain.convolution.isPointwise }
    switch chains.count {
    case 3 where pointwise(chains[0]) && chains[1].convolution.isDepthwise && pointwise(chains[2]):
      (expansion, depthwise, projection) = (chains[0], chains[1], chains[2])
    case 2 where chains[0].convolution.isDepthwise && pointwise(chains[1]):
      (expansion, depthwise, projection) = (nil, chains[0], chains[1])
    default:
      return nil
    }
    length = taken.reduce(0) { $0 + $1.children }
    let hidden = depthwise.convolution.inChannels
    guard expansion?.convolution.outChannels ?? hidden == hidden, projection.convolution.inChannels == hidden else { return nil }
  }

  /// The block's output, recording nothing; shapes the chain cannot take fall back to the
  /// layers one by one (which name what is wrong).
  func forward(_ input: Tensor) throws -> Tensor {
    try forward(input, adding: nil, activation: nil)
  }

  /// The output of the block followed by the addition of `residual` (if given) and
  /// `activation`: an inverted residual, whose sum with the shortcut the projection adds to
  /// each band of its output while it is in cache (``ResidualChain``).
  ///
  /// - Throws: ``ShapeError`` when `residual` does not have the output's shape.
  /// - Precondition: the projection has no activation of its own.
  func forward(_ input: Tensor, adding residual: Tensor?, activation: ClampActivation?) throws -> Tensor {
    precondition(
      (residual == nil && activation == nil) || projection.activation == nil,
      "the sum and the block's activation come after the projection's own activation")
    let first = expansion ?? depthwise
    guard input.rank == 4, input.shape[3] == first.convolution.inChannels else {
      var x = input
      for chain in [expansion, depthwise].compactMap({ $0 }) { x = try chain.forward(x) }
      return try projection.forward(x, adding: residual, activation: activation ?? projection.activation?.kind)
    }
    return try GradientRecording.withoutGradients {
      for chain in [expansion, depthwise, projection] { chain?.discardRecordings() }
      return try runInBands(input, adding: residual, activation: activation)
    }
  }

  private func runInBands(_ input: Tensor, adding residual: Tensor?, activation: ClampActivation?) throws -> Tensor {
    let (n, h, w) = (input.shape[0], input.shape[1], input.shape[2])
    let hidden = depthwise.convolution.inChannels, outChannels = projection.convolution.outChannels
    let g = depthwise.convolution.geometry(for: [n, h, w, hidden])
    let outputShape = [n, g.outHeight, g.outWidth, outChannels]
    if let residual, residual.shape != outputShape {
      throw ShapeError(context: Residual.sumContext, expected: outputShape, actual: residual.shape)
    }
    let bandRows = g.outputRowsPerBand(inputRowFloats: w * hidden, bandFloats: Self.bandFloats)
    var output = Tensor(uninitializedShape: outputShape)
    let target = output.mutablePointer()
    let expandedRows = g.inputRowCapacity(outputRows: bandRows)
    let (expansionFold, depthwiseFold, projectionFold) = (expansion?.folded, depthwise.folded, projection.folded)
    expansionFold.withOptionalEpilogue { expansionEpilogue in
      depthwiseFold.withEpilogue { depthwiseEpilogue in
        projectionFold.withEpilogue { projectionEpilogue in
          var projectionEpilogue = projectionEpilogue
          if let residual { projectionEpilogue.addend = ChannelEpilogue.Addend(values: residual.pointer, output: target) }
          if let activation { projectionEpilogue.clamp = activation }
          withProducts(expansion: expansionEpilogue, projection: projectionEpilogue) { products in
            let scratchFloats = expandedRows * w * hidden + bandRows * g.outWidth * hidden
            g.forEachOutputBand(rowsPerBand: bandRows, scratchFloats: scratchFloats) { image, rows, scratch in
              runBand(
                Band(image: image, rows: rows), input: input.pointer, output: target, expanded: scratch,
                depthwiseRows: scratch + expandedRows * w * hidden, geometry: g, products: products,
                depthwiseEpilogue: depthwiseEpilogue)
            }
          }
        }
      }
    }
    withExtendedLifetime(residual) {}  // the bands read it through the epilogue's pointer
    return output
  }

  /// Calls `body` with the 1×1 products of the expansion (if any) and the projection, each
  /// weight packed once for every band.
  private func withProducts<R>(
    expansion expansionEpilogue: ChannelEpilogue?, projection projectionEpilogue: ChannelEpilogue,
    _ body: ((expansion: PointwiseProduct?, projection: PointwiseProduct)) -> R
  ) -> R {
    let hidden = depthwise.convolution.inChannels, outChannels = projection.convolution.outChannels
    func withProjection(_ expansion: PointwiseProduct?) -> R {
      withPointwiseProduct(
        weight: projection.convolution.weight.value.pointer, k: hidden, n: outChannels, epilogue: projectionEpilogue,
        perBand: true
      ) { body((expansion, $0)) }
    }
    guard let expansion, let expansionEpilogue else { return withProjection(nil) }
    return withPointwiseProduct(
      weight: expansion.convolution.weight.value.pointer, k: expansion.convolution.inChannels, n: hidden,
      epilogue: expansionEpilogue, perBand: true, withProjection)
  }

  /// Output rows `rows` of image `image`.
  private struct Band {
    var image: Int
    var rows: Range<Int>
  }

  private func runBand(
    _ band: Band, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
    expanded: UnsafeMutablePointer<Float>, depthwiseRows: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
    products: (expansion: PointwiseProduct?, projection: PointwiseProduct), depthwiseEpilogue: ChannelEpilogue
  ) {
    let hidden = g.inChannels, (h, w) = (g.height, g.width)
    let inChannels = expansion?.convolution.inChannels ?? hidden
    let imageInput = input + band.image * h * w * inChannels
    // The depthwise windows of the band read input rows firstRow..<endRow.
    let firstRow = max(0, band.rows.lowerBound * g.stride - g.padTop)
    let endRow = min(h, (band.rows.upperBound - 1) * g.stride - g.padTop + g.kernelHeight)
    var image = imageInput
    if let expand = products.expansion {
      expand(rows: (endRow - firstRow) * w, a: imageInput + firstRow * w * inChannels, lda: inChannels, c: expanded)
      image = UnsafePointer(expanded) - firstRow * w * hidden  // row r of the image is at image + r·W·C
    }
    for oh in band.rows {
      depthwiseForwardRow(
        image: image, row: oh, weight: depthwise.convolution.weight.value.pointer,
        output: depthwiseRows + (oh - band.rows.lowerBound) * g.outWidth * hidden, geometry: g, epilogue: depthwiseEpilogue)
    }
    let outChannels = products.projection.n
    let target = output + (band.image * g.outHeight + band.rows.lowerBound) * g.outWidth * outChannels
    products.projection(rows: band.rows.count * g.outWidth, a: depthwiseRows, lda: hidden, c: target)
  }
}

extension Optional where Wrapped == FoldedNormalization {
  /// Calls `body` with the epilogue, or nil when there is none.
  fileprivate func withOptionalEpilogue<R>(_ body: (ChannelEpilogue?) throws -> R) rethrows -> R {
    guard let self else { return try body(nil) }
    return try self.withEpilogue { try body($0) }
  }
}

/// A folded ``ConvolutionChain`` and the max pooling after it — ResNet's first layers — run
/// band by band when nothing is recorded and the convolution reads its windows in place
/// (``ConvGeometry/suitsNarrowConvolution``).
///
/// Layer by layer, the convolution writes its whole output (ResNet's is 112×112×64 per image,
/// four times what the pooling leaves) and the pooling reads it back. Band by band, each
/// worker computes the convolution rows that a band of pooled rows reaches into a buffer that
/// stays in cache and pools them there; only the input and the pooled output go through
/// memory. Bands overlap by the rows two pooling windows share, which the convolution computes
/// twice. The values are, bit for bit, those of the folded convolution and the pooling run
/// one after the other: each convolution row is the same kernel's, and a maximum does not
/// depend on where its taps lie.
struct ConvolutionPoolChain {
  let convolution: ConvolutionChain
  let pool: MaxPool2D

  /// The children the chain stands for.
  var length: Int { convolution.length + 1 }

  /// Floats of convolution rows one band may hold: 512 KiB, half of what
  /// ``InvertedBottleneckChain/bandFloats`` gives (tests shrink it to get many bands from
  /// small images).
  nonisolated(unsafe) static var bandFloats = 1 << 17

  /// The chain that starts at child `index`: a folded convolution chain over a dense
  /// convolution, then a max pooling.
  init?(_ children: [(name: String, layer: any Layer)], at index: Int) {
    guard let convolution = ConvolutionChain(children, at: index), !convolution.convolution.isDepthwise,
      index + convolution.length < children.count, let pool = children[index + convolution.length].layer as? MaxPool2D
    else { return nil }
    (self.convolution, self.pool) = (convolution, pool)
  }

  /// The pooled output, recording nothing; layer by layer where the input does not suit the
  /// bands (and there the layers' own errors for a wrong input).
  func forward(_ input: Tensor) throws -> Tensor {
    try GradientRecording.withoutGradients {
      guard let (g, pooling) = geometries(of: input.shape) else { return try pool.forward(convolution.forward(input)) }
      convolution.discardRecordings()
      pool.discardRecording()
      var output = Tensor(uninitializedShape: pooling.outputShape)
      let target = output.mutablePointer(), weight = convolution.convolution.weight.value
      let imageFloats = g.height * g.width * g.inChannels, rowFloats = g.outWidth * g.outChannels
      convolution.folded.withEpilogue { epilogue in
        withExtendedLifetime((input, weight)) {
          let rowsPerBand = pooling.outputRowsPerBand(inputRowFloats: rowFloats, bandFloats: Self.bandFloats)
          let bufferFloats = pooling.inputRowCapacity(outputRows: rowsPerBand) * rowFloats
          pooling.forEachOutputBand(rowsPerBand: rowsPerBand, scratchFloats: bufferFloats) { n, pooledRows, buffer in
            let convolutionRows = pooling.inputRows(reachedBy: pooledRows)
            for row in convolutionRows {
              narrowConvolutionRow(
                image: input.pointer + n * imageFloats, row: row, weight: weight.pointer,
                output: buffer + (row - convolutionRows.lowerBound) * rowFloats, geometry: g, epilogue: epilogue)
            }
            // The pooled rows read the buffer as if it started at the image's row 0.
            let rows = UnsafePointer(buffer) - convolutionRows.lowerBound * rowFloats
            for row in pooledRows {
              maxPool2dRow(
                image: rows, row: row, output: target + (n * pooling.outHeight + row) * pooling.outWidth * pooling.inChannels,
                argmax: nil, geometry: pooling)
            }
          }
        }
      }
      return output
    }
  }

  /// The convolution's and the pooling's geometries for an input of shape `shape`, when the
  /// bands take it: an `[N, H, W, C]` input the convolution reads in place, and windows
  /// that fit.
  private func geometries(of shape: [Int]) -> (convolution: ConvGeometry, pooling: ConvGeometry)? {
    let layer = convolution.convolution
    guard shape.count == 4, shape[3] == layer.inChannels else { return nil }
    let g = layer.geometry(for: shape)
    guard g.outHeight > 0, g.outWidth > 0, g.suitsNarrowConvolution, let pooling = try? pool.geometry(for: g.outputShape),
      pooling.outHeight > 0, pooling.outWidth > 0
    else { return nil }
    return (g, pooling)
  }
}

import CChannelKernels

/// Winograd F(4×4, 3×3) convolution for dense 3×3 stride-1 convolutions on NHWC tensors.
///
/// The output is cut into 4×4 tiles; each tile needs a 6×6 window of the input. With the
/// transforms `V = Bᵀ d B` of each input window and `U = G g Gᵀ` of each filter, the tile is
/// `Y = Aᵀ (U ⊙ V) A`, so a tile costs 36 multiplies per input × output channel pair instead
/// of 144. Summed over input channels, the 36 element-wise products become 36 independent
/// GEMMs `M[ξ] = V[ξ] · U[ξ]` (tiles × IC times IC × OC), which run on the panel GEMM (or
/// OpenBLAS); the tile transforms run in C (`winograd.c`), 16 channels at a time.
/// Tiles are processed in blocks sized to stay in cache; each worker owns whole blocks. The
/// input gradient is the same forward on the turned filters; the weight gradient runs the
/// transforms backwards (``winogradWeightGradient(input:dY:dW:geometry:)``).
/// Reference: Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks" (2016),
/// the F(4×4, 3×3) matrices with interpolation points 0, ±1, ±2 and ∞.

/// Output tile side and transform points of F(4×4, 3×3).
enum WinogradF43 {
  static let tile = 4
  static let points = 36
}

extension ConvGeometry {
  /// True when ``winogradConv2dForward(input:weight:output:geometry:epilogue:)`` computes this
  /// convolution: 3×3, stride 1, and enough channels on both sides that the 36 GEMMs beat
  /// one im2col GEMM (measured with `podium bench --kernels`).
  var suitsWinograd: Bool {
    kernelHeight == 3 && kernelWidth == 3 && stride == 1 && inChannels >= 16 && outChannels >= 16
  }

  /// The geometry of the input gradient as a convolution of the output gradient (3×3,
  /// stride 1, padding `2 − pad` before), when Winograd computes it; nil otherwise.
  var winogradInputGradientGeometry: ConvGeometry? {
    guard suitsWinograd, padTop <= 2, padLeft <= 2 else { return nil }
    let bottom = height - outHeight - (2 - padTop) + 2, right = width - outWidth - (2 - padLeft) + 2
    guard bottom >= 0, right >= 0 else { return nil }
    return ConvGeometry(
      input: (batch, outHeight, outWidth, outChannels), outChannels: inChannels, kernel: (3, 3), stride: 1,
      padding: .explicit(top: 2 - padTop, bottom: bottom, left: 2 - padLeft, right: right))
  }

  /// Output tiles per image row and column, and in the whole batch.
  var winogradTileRows: Int { (outHeight + WinogradF43.tile - 1) / WinogradF43.tile }
  var winogradTileColumns: Int { (outWidth + WinogradF43.tile - 1) / WinogradF43.tile }
  var winogradTiles: Int { batch * winogradTileRows * winogradTileColumns }

  /// `(n, first output row, first output column)` of tile `t`.
  @inline(__always)
  func winogradTileOrigin(_ t: Int) -> (Int, Int, Int) {
    let perImage = winogradTileRows * winogradTileColumns
    let n = t / perImage, rest = t - n * perImage
    let row = rest / winogradTileColumns
    return (n, row * WinogradF43.tile, (rest - row * winogradTileColumns) * WinogradF43.tile)
  }
}

/// Floats of transformed input and products one block of tiles may hold: 2 MiB, about one
/// core's L2. Measured with `podium bench --kernels`.
let winogradBlockFloats = 1 << 19

/// Tiles per block: about ``winogradBlockFloats`` of `V` and `M` together, but at least 64
/// so that each of the 36 GEMMs has enough rows to amortise packing its `U[ξ]`, and no more
/// than one worker's share; then balanced among the workers.
func winogradBlockTiles(_ g: ConvGeometry) -> Int {
  let share = (g.winogradTiles + Parallel.threadCount - 1) / Parallel.threadCount
  let fitting = winogradBlockFloats / (WinogradF43.points * (g.inChannels + g.outChannels))
  return Parallel.balancedChunk(g.winogradTiles, atMost: max(1, min(share, max(fitting, 64))))
}

/// Computes `output = epilogue(conv(input, weight))` for a geometry that
/// ``ConvGeometry/suitsWinograd``; any padding.
///
/// - Precondition: buffers hold `g.inputShape`, `[3, 3, IC, OC]` and `g.outputShape` values.
public func winogradConv2dForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue
) {
  let layout = WinogradWeightLayout(geometry: g)
  withScratch(count: layout.count) { transformedWeight in
    winogradTransformWeight(weight, into: transformedWeight, layout: layout)
    winogradConv2dForward(input: input, transformedWeight: transformedWeight, layout: layout, output: output, geometry: g, epilogue: epilogue)
  }
}

/// ``winogradConv2dForward(input:weight:output:geometry:epilogue:)`` with the filters already
/// transformed (``winogradTransformWeight(_:into:layout:)``), as a layer keeps them while its
/// weight does not change (``WinogradTransformedWeight``).
///
/// - Precondition: `layout` is ``WinogradWeightLayout/init(geometry:)``'s for `g`.
func winogradConv2dForward(
  input: UnsafePointer<Float>, transformedWeight: UnsafePointer<Float>, layout: WinogradWeightLayout,
  output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, epilogue: ChannelEpilogue
) {
  precondition(g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1, "Winograd F(4,3) needs a 3×3 stride-1 convolution")
  precondition(layout == WinogradWeightLayout(geometry: g), "the transformed filters are laid out for another convolution")
  let (ic, oc) = (g.inChannels, g.outChannels)
  let block = winogradBlockTiles(g)
  let blocks = (g.winogradTiles + block - 1) / block
  Parallel.forEachRange(blocks) { blockRange in
    withScratch(count: WinogradF43.points * block * (ic + oc)) { scratch in
      let v = scratch, m = scratch + WinogradF43.points * block * ic
      for b in blockRange {
        let tiles = (b * block)..<min((b + 1) * block, g.winogradTiles)
        winogradTransformInput(input, tiles: tiles, into: v, geometry: g)
        for point in 0..<WinogradF43.points {
          let (a, u, product) = (v + point * tiles.count * ic, transformedWeight + point * layout.pointStride, m + point * tiles.count * oc)
          if layout.panels {
            let packed = PackedPanels(k: ic, n: oc, values: u)
            panelMultiply(rows: tiles.count, a: a, lda: ic, packed: packed, c: product, ldc: oc, epilogue: ChannelEpilogue())
          } else {
            sgemmRowMajor(false, false, tiles.count, oc, ic, 1, a, ic, u, oc, 0, product, oc)
          }
        }
        winogradTransformOutput(m, tiles: tiles, epilogue: epilogue, into: output, geometry: g)
      }
    }
  }
}

/// `dX` of a 3×3 stride-1 convolution as a Winograd convolution of `dY` with the filters
/// turned by 180° and their channel axes swapped.
func winogradInputGradient(
  weight: UnsafePointer<Float>, dY: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, transposed: ConvGeometry
) {
  let (ic, oc) = (g.inChannels, g.outChannels)
  withScratch(count: 9 * ic * oc) { turned in
    // Each tap's `[IC, OC]` matrix, taken from the opposite tap, transposed in 16×16 blocks
    // (so that neither side walks memory a float at a time), in parallel over blocks of rows.
    let block = 16, rowBlocks = (ic + block - 1) / block
    Parallel.forEachRange(9 * rowBlocks) { items in
      for item in items {
        let tap = item / rowBlocks, rows = item % rowBlocks * block..<min(ic, (item % rowBlocks + 1) * block)
        let source = weight + (8 - tap) * ic * oc, target = turned + tap * oc * ic
        for columns in Swift.stride(from: 0, to: oc, by: block) {
          for o in columns..<min(oc, columns + block) {
            for i in rows { target[o * ic + i] = source[i * oc + o] }
          }
        }
      }
    }
    winogradConv2dForward(input: dY, weight: turned, output: dX, geometry: transposed, epilogue: ChannelEpilogue())
  }
}

/// Accumulates the weight gradient of a convolution that ``ConvGeometry/suitsWinograd``
/// into `dW` (`[3, 3, IC, OC]`).
///
/// With `Y = Aᵀ (U ⊙ V) A` per tile, the gradient of `U` is `Σ_tiles V ⊙ (A dY Aᵀ)`, 36 GEMMs
/// `dU[ξ] += V[ξ]ᵀ · dM[ξ]`, and since `U = G g Gᵀ` is linear, `dg = Gᵀ dU G`. Layers with
/// many tiles and few channels sum blocks of tiles into one `dU` per worker; layers with
/// few tiles and many channels (where per-worker `dU`s would outweigh the transformed
/// tiles) transform every tile at once and split the 36 GEMMs among the workers.
public func winogradWeightGradient(
  input: UnsafePointer<Float>, dY: UnsafePointer<Float>, dW: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let (ic, oc) = (g.inChannels, g.outChannels)
  let transformedCount = WinogradF43.points * ic * oc
  let allTilesCount = WinogradF43.points * g.winogradTiles * (ic + oc)
  if Parallel.threadCount * transformedCount > allTilesCount {
    withScratch(count: transformedCount + allTilesCount) { scratch in
      weightGradientByPoint(input: input, dY: dY, dU: scratch, tileScratch: scratch + transformedCount, geometry: g)
      winogradTransformWeightGradient(scratch, into: dW, inChannels: ic, outChannels: oc)
    }
    return
  }
  let block = winogradBlockTiles(g)
  let blocks = (g.winogradTiles + block - 1) / block
  let workers = min(Parallel.threadCount, blocks)
  withScratch(count: workers * transformedCount) { partials in
    partials.initialize(repeating: 0, count: workers * transformedCount)
    Parallel.forEachWorker(blocks) { worker, blockRange in
      let dU = partials + worker * transformedCount
      withScratch(count: WinogradF43.points * block * (ic + oc)) { scratch in
        let v = scratch, dM = scratch + WinogradF43.points * block * ic
        for b in blockRange {
          let tiles = (b * block)..<min((b + 1) * block, g.winogradTiles)
          winogradTransformInput(input, tiles: tiles, into: v, geometry: g)
          winogradTransformOutputGradient(dY, tiles: tiles, into: dM, geometry: g)
          for point in 0..<WinogradF43.points {
            sgemmRowMajor(
              true, false, ic, oc, tiles.count, 1, v + point * tiles.count * ic, ic,
              dM + point * tiles.count * oc, oc, 1, dU + point * ic * oc, oc)
          }
        }
      }
    }
    for worker in 1..<max(workers, 1) { addInParallel(partials, partials + worker * transformedCount, count: transformedCount) }
    winogradTransformWeightGradient(partials, into: dW, inChannels: ic, outChannels: oc)
  }
}

/// `dU[ξ] = V[ξ]ᵀ · dM[ξ]` over all tiles at once: the transforms in parallel over tiles,
/// then the 36 GEMMs in parallel over points.
private func weightGradientByPoint(
  input: UnsafePointer<Float>, dY: UnsafePointer<Float>, dU: UnsafeMutablePointer<Float>,
  tileScratch: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let (ic, oc, tiles) = (g.inChannels, g.outChannels, g.winogradTiles)
  let v = tileScratch, dM = tileScratch + WinogradF43.points * tiles * ic
  Parallel.forEachRange(tiles) { range in
    winogradTransformInput(input, tiles: range, layout: 0..<tiles, into: v, geometry: g)
    winogradTransformOutputGradient(dY, tiles: range, layout: 0..<tiles, into: dM, geometry: g)
  }
  Parallel.forEachRange(WinogradF43.points) { points in
    for point in points {
      (dU + point * ic * oc).update(repeating: 0, count: ic * oc)
      addTransposedProduct(
        m: ic, n: oc, k: tiles, a: v + point * tiles * ic, lda: ic, b: dM + point * tiles * oc, ldb: oc,
        c: dU + point * ic * oc, ldc: oc)
    }
  }
}

// MARK: - Transforms

/// Six vectors of 8 channels: one row or column of a 6×6 transform.
private typealias Six = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

/// Calls `body(ic, oc0, width, scratch)` for every input channel and every block of 8 (the
/// last perhaps fewer) output channels, in parallel over input channels, with
/// `scratchVectors` vectors of stack space: the loop of the filter transforms.
@inline(__always)
private func forEachFilterBlock(
  inChannels ic: Int, outChannels oc: Int, scratchVectors: Int,
  _ body: (_ c: Int, _ o: Int, _ width: Int, _ scratch: UnsafeMutablePointer<SIMD8<Float>>) -> Void
) {
  Parallel.forEachRange(ic) { channels in
    withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: scratchVectors) { scratch in
      for c in channels {
        for o in Swift.stride(from: 0, to: oc, by: 8) { body(c, o, min(8, oc - o), scratch.baseAddress!) }
      }
    }
  }
}

/// Where the transformed filters `U[ξ][ic][oc]` lie: one row-major `[IC, OC]` matrix per
/// point, or each point's matrix packed into the panel GEMM's 64-column panels.
struct WinogradWeightLayout: Equatable {
  let inChannels: Int, outChannels: Int
  let panels: Bool
  /// Floats per point.
  let pointStride: Int

  init(inChannels: Int, outChannels: Int, panels: Bool) {
    (self.inChannels, self.outChannels, self.panels) = (inChannels, outChannels, panels)
    pointStride = panels ? PackedPanels.count(k: inChannels, n: outChannels) : inChannels * outChannels
  }

  /// The layout the forward of `g` multiplies with: packed when the panel GEMM takes its
  /// input channels.
  init(geometry g: ConvGeometry) {
    self.init(inChannels: g.inChannels, outChannels: g.outChannels, panels: MatrixKernels.usesPanels(innerDimension: g.inChannels))
  }

  /// Floats of all the points' matrices.
  var count: Int { WinogradF43.points * pointStride }

  /// Zeroes a last partial panel's padding columns: the panel GEMM multiplies them but never
  /// stores their sums, and zeros keep NaNs and denormals out of its registers.
  func zeroPadding(_ u: UnsafeMutablePointer<Float>) {
    let width = PackedPanels.width, used = outChannels % width
    guard panels, used != 0 else { return }
    for point in 0..<WinogradF43.points {
      for c in 0..<inChannels {
        (u + offset(point: point, c: c, o: outChannels - used) + used).update(repeating: 0, count: width - used)
      }
    }
  }

  /// The offset of `U[point][c][o]`; `o` and the 8 channels after it share one panel row.
  @inline(__always)
  func offset(point: Int, c: Int, o: Int) -> Int {
    guard panels else { return point * pointStride + c * outChannels + o }
    let width = PackedPanels.width
    let panel = o / width, column = o % width
    let row = panel * inChannels + c
    return point * pointStride + row * width + column
  }
}

/// `U[ξ][ic][oc] = (G g Gᵀ)[ξ]` for every filter `g = weight[·][·][ic][oc]`, in parallel over
/// input channels, by the C filter kernel (16 output channels at a time).
func winogradTransformWeight(_ weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, layout: WinogradWeightLayout) {
  let (ic, oc) = (layout.inChannels, layout.outChannels)
  layout.zeroPadding(u)
  let kernel = ChannelKernels.active.winogradFilterRow, panelWidth = layout.panels ? PackedPanels.width : 0
  Parallel.forEachRange(ic) { channels in
    for c in channels { kernel(ic, oc, c, weight, layout.pointStride, panelWidth, u) }
  }
}

extension ConvGeometry {
  /// Calls `body(tile, n, t)` for every tile `t` in `tiles`, of image `n`, with `tile` placing
  /// it in an image of `height × width` pixels of `channels` values: its first output row and
  /// column, less `offset` (the input window's padding), and `pointStride`. For the C tile
  /// kernels.
  @inline(__always)
  func forEachWinogradTile(
    _ tiles: Range<Int>, image: (height: Int, width: Int, channels: Int), offset: (top: Int, left: Int) = (0, 0),
    pointStride: Int, _ body: (UnsafePointer<CChannelKernels_WinogradTile>, _ n: Int, _ t: Int) -> Void
  ) {
    var tile = CChannelKernels_WinogradTile(
      height: image.height, width: image.width, channels: image.channels, top: 0, left: 0, pointStride: pointStride)
    for t in tiles {
      let (n, oh, ow) = winogradTileOrigin(t)
      (tile.top, tile.left) = (oh - offset.top, ow - offset.left)
      body(&tile, n, t)
    }
  }
}

/// `V[ξ][t][ic] = (Bᵀ d B)[ξ]` for the 6×6 input window `d` of every tile `t` in `tiles`
/// (zero outside the image), by the C tile kernel. `V` holds the tiles of `layout` (by
/// default `tiles`), one row per tile and point.
func winogradTransformInput(
  _ input: UnsafePointer<Float>, tiles: Range<Int>, layout: Range<Int>? = nil, into v: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry
) {
  let layout = layout ?? tiles
  let ic = g.inChannels, kernel = ChannelKernels.active.winogradInputTile
  g.forEachWinogradTile(
    tiles, image: (g.height, g.width, ic), offset: (g.padTop, g.padLeft), pointStride: layout.count * ic
  ) { tile, n, t in
    kernel(tile, input + n * g.height * g.width * ic, v + (t - layout.lowerBound) * ic)
  }
}

/// `Y = Aᵀ M A` for every tile in `tiles`, through the epilogue, written to the tile's output
/// pixels that lie inside the image, by the C tile kernel.
func winogradTransformOutput(
  _ m: UnsafePointer<Float>, tiles: Range<Int>, epilogue: ChannelEpilogue,
  into output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry
) {
  let oc = g.outChannels, imageFloats = g.outHeight * g.outWidth * oc, kernel = ChannelKernels.active.winogradOutputTile
  epilogue.withAffine { affine in
    g.forEachWinogradTile(tiles, image: (g.outHeight, g.outWidth, oc), pointStride: tiles.count * oc) { tile, n, t in
      let image = output + n * imageFloats
      kernel(tile, m + (t - tiles.lowerBound) * oc, affine, epilogue.addend(at: image), image)
    }
  }
}

/// `dM = A dY Aᵀ` (6×6) for the 4×4 output-gradient tile of every tile in `tiles` (zero
/// where the tile reaches past the output), by the C tile kernel. `dM` holds the tiles of
/// `layout` (by default `tiles`), one row per tile and point.
func winogradTransformOutputGradient(
  _ dY: UnsafePointer<Float>, tiles: Range<Int>, layout: Range<Int>? = nil, into dM: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry
) {
  let layout = layout ?? tiles
  let oc = g.outChannels, kernel = ChannelKernels.active.winogradOutputGradientTile
  g.forEachWinogradTile(tiles, image: (g.outHeight, g.outWidth, oc), pointStride: layout.count * oc) { tile, n, t in
    kernel(tile, dY + n * g.outHeight * g.outWidth * oc, dM + (t - layout.lowerBound) * oc)
  }
}

/// `dW[kh][kw][ic][oc] += (Gᵀ dU G)[kh][kw]` for every channel pair, in parallel over input
/// channels, 8 output channels at a time.
func winogradTransformWeightGradient(
  _ dU: UnsafePointer<Float>, into dW: UnsafeMutablePointer<Float>, inChannels ic: Int, outChannels oc: Int
) {
  let pointStride = ic * oc
  forEachFilterBlock(inChannels: ic, outChannels: oc, scratchVectors: 21) { c, o, width, scratch in
    let columns = scratch, sums = scratch + 18
    let at = { (i: Int, j: Int) in SIMD8<Float>.load(dU + (i * 6 + j) * pointStride + c * oc + o, width) }
    // Each column of dU through Gᵀ...
    for j in 0..<6 {
      filterGradientTransform((at(0, j), at(1, j), at(2, j), at(3, j), at(4, j), at(5, j)), into: columns + j, step: 6)
    }
    // ...then each row of the result, added to dW.
    for kh in 0..<3 {
      let row = columns + kh * 6
      filterGradientTransform((row[0], row[1], row[2], row[3], row[4], row[5]), into: sums, step: 1)
      for kw in 0..<3 {
        let target = dW + ((kh * 3 + kw) * ic + c) * oc + o
        (SIMD8<Float>.load(target, width) + sums[kw]).store(target, width)
      }
    }
  }
}

/// `Gᵀ · (u0 … u5)ᵀ` for F(4×4, 3×3), written to `target[0], target[step], target[2·step]`.
@inline(__always)
private func filterGradientTransform(_ u: Six, into target: UnsafeMutablePointer<SIMD8<Float>>, step: Int) {
  let (u0, u1, u2, u3, u4, u5) = u
  let sum12 = u1 + u2, sum34 = u3 + u4
  target[0] = u0 / 4 - sum12 / 6 + sum34 / 24
  target[step] = (u2 - u1) / 6 + (u3 - u4) / 12
  target[2 * step] = (sum34 - sum12) / 6 + u5
}

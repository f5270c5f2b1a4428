/// A 1×1 stride-1 convolution on NHWC tensors is a product of its `[N·H·W, IC]` input and its
/// `[IC, OC]` weight, with no im2col: forward (whole, or a chunk of rows at a time with the
/// epilogue and the output's moments taken while the chunk is in cache) and backward (whole,
/// or with the output gradient written a chunk at a time by the batch norm after it). Either
/// way the input may be a batch norm's output that is never written whole
/// (``ConvolutionInput/pending(_:)``), computed a chunk of rows at a time into cache.

/// Output rows per GEMM of a 1×1 convolution with an epilogue: about 128K output values
/// (512 KiB, in L2 when the epilogue reads them back), at least 128 rows so each GEMM
/// amortises packing the weight.
func pointwiseChunkRows(outChannels: Int) -> Int { max(128, (1 << 17) / max(outChannels, 1)) }

/// A 1×1 stride-1 convolution: the panel GEMM with the epilogue inside it where
/// ``MatrixKernels`` chooses it, else one GEMM over all pixels, or, with an epilogue, one GEMM
/// per chunk of rows followed by the epilogue on that chunk. With `moments`, it runs chunk by
/// chunk either way and records each chunk's moments while the chunk is in cache.
func pointwiseForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue, moments: ChunkMoments?
) {
  let (ic, oc, rows) = (g.inChannels, g.outChannels, g.outputPixels)
  if moments == nil, MatrixKernels.usesPanels(innerDimension: ic) {
    panelGEMM(m: rows, n: oc, k: ic, a: input, lda: ic, b: weight, ldb: oc, transposeB: false, c: output, ldc: oc, epilogue: epilogue)
    return
  }
  if moments == nil, epilogue.isIdentity {
    gemm(transposeA: false, transposeB: false, m: rows, n: oc, k: ic, a: input, lda: ic, b: weight, ldb: oc, c: output, ldc: oc)
    return
  }
  withPointwiseProduct(weight: weight, k: ic, n: oc, epilogue: epilogue) { product in
    forEachOutputChunk(rows: rows, channels: oc, output: output, moments: moments) { first, count, _ in
      product(rows: count, a: input + first * ic, lda: ic, c: output + first * oc)
    }
  }
}

/// ``pointwiseForward(input:weight:output:geometry:epilogue:moments:)`` of a batch norm's output
/// that is never written whole: each chunk of rows of it is written into a buffer of about
/// `chunkFloats` floats (at least 64 rows), which stays in cache while the product reads it.
/// Records every chunk's moments in `moments`.
func pointwiseForward(
  input: PendingNormalization, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, epilogue: ChannelEpilogue, moments: ChunkMoments, chunkFloats: Int
) {
  let (ic, oc) = (g.inChannels, g.outChannels)
  let chunk = min(pointwiseChunkRows(outChannels: oc), max(64, chunkFloats / max(ic, 1)))
  withPointwiseProduct(weight: weight, k: ic, n: oc, epilogue: epilogue) { product in
    forEachOutputChunk(
      rows: g.outputPixels, channels: oc, output: output, moments: moments, atMost: chunk, scratchFloats: chunk * ic
    ) { first, count, rows in
      input.write(rows: first..<first + count, into: rows)
      product(rows: count, a: rows, lda: ic, c: output + first * oc)
    }
  }
}

/// Calls `write(first, count, scratch)` for each chunk of at most `atMost` output rows
/// (``pointwiseChunkRows(outChannels:)`` by default), in parallel, then records the chunk's
/// moments in `moments` while it is in cache. `scratch` is the worker's own buffer of
/// `scratchFloats` floats.
private func forEachOutputChunk(
  rows: Int, channels: Int, output: UnsafePointer<Float>, moments: ChunkMoments?, atMost: Int? = nil,
  scratchFloats: Int = 0, _ write: (_ first: Int, _ count: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void
) {
  let chunk = Parallel.balancedChunk(rows, atMost: atMost ?? pointwiseChunkRows(outChannels: channels))
  let chunks = (rows + chunk - 1) / chunk
  moments?.reserve(chunks: chunks, rowsPerChunk: chunk)
  Parallel.forEachRange(chunks) { range in
    withScratch(count: scratchFloats) { scratch in
      for c in range {
        let first = c * chunk, count = min(chunk, rows - first)
        write(first, count, scratch)
        moments?.record(c, rows: count, of: output + first * channels)
      }
    }
  }
}

/// Backward of a 1×1 stride-1 convolution: two products over all pixels (by Podium's kernels
/// where ``MatrixKernels`` chooses them).
func pointwiseBackward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, dY: UnsafePointer<Float>,
  dX: UnsafeMutablePointer<Float>?, dW: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry
) {
  let (m, ic, oc) = (g.outputPixels, g.inChannels, g.outChannels)
  if let dW {
    addTransposedProductInParallel(m: ic, n: oc, k: m, a: input, lda: ic, b: dY, ldb: oc, c: dW, ldc: oc)
  }
  if let dX, MatrixKernels.usesPanels(innerDimension: oc) {
    panelGEMM(m: m, n: ic, k: oc, a: dY, lda: oc, b: weight, ldb: oc, transposeB: true, c: dX, ldc: ic, epilogue: ChannelEpilogue())
  } else if let dX {
    gemm(transposeA: false, transposeB: true, m: m, n: ic, k: oc,
         a: dY, lda: oc, b: weight, ldb: oc, c: dX, ldc: ic)
  }
}

/// Writes rows `pixels` of a convolution's output gradient (its `[N·OH·OW, OC]` view) to
/// `target`, for a backward that takes it a chunk at a time, while the chunk is in cache.
typealias OutputGradientWriter = (_ pixels: Range<Int>, _ target: UnsafeMutablePointer<Float>) -> Void

/// Called by a backward that writes its input gradient a chunk at a time, right after each
/// chunk, while it is in cache: `worker` wrote the input gradient's pixels `pixels` (rows of
/// its `[N·H·W, C]` view) at `dX`, which points at the first of them. The batch norm before
/// the convolution gathers its gradient sums so (``GradientSumsGatherer``).
typealias InputGradientObserver = (_ worker: Int, _ pixels: Range<Int>, _ dX: UnsafePointer<Float>) -> Void

/// Backward of a 1×1 stride-1 convolution whose output gradient `outputGradient` writes on
/// demand: each worker takes chunks of at most `chunkFloats` floats of it into a buffer that
/// stays in cache, adds the chunk's share of the weight gradient (`dW += xᵀ · dY`, into its
/// own partial sums; a pending input's rows are written beside it, as many floats at most)
/// and writes the chunk's input gradient (`dX = dY · Wᵀ`), which `inputGradientWritten` then
/// reads. `dX` (if given) is overwritten; `dW` (if given) is accumulated into.
func pointwiseBackward(
  input: ConvolutionInput, weight: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>?,
  dW: UnsafeMutablePointer<Float>?, geometry g: ConvGeometry, chunkFloats: Int, outputGradient: OutputGradientWriter,
  inputGradientWritten: InputGradientObserver? = nil
) {
  let (m, ic, oc) = (g.outputPixels, g.inChannels, g.outChannels)
  let readsRows = dW != nil && input.isPending, widest = readsRows ? max(ic, oc) : oc
  let chunk = Parallel.balancedChunk(m, atMost: max(1, chunkFloats / widest)), chunks = (m + chunk - 1) / chunk, size = ic * oc
  let workers = min(Parallel.threadCount, chunks)
  withInputGradientProduct(weight: weight, geometry: g, packing: dX != nil) { inputGradientProduct in
    withScratch(count: max(1, (workers - 1) * size)) { partials in
      if dW != nil { partials.initialize(repeating: 0, count: (workers - 1) * size) }
      let used = Parallel.forEachWorker(chunks) { worker, range in
        withScratch(count: chunk * (oc + (readsRows ? ic : 0))) { dY in
          for index in range {
            let pixels = index * chunk..<min((index + 1) * chunk, m)
            outputGradient(pixels, dY)
            if let dW {
              addTransposedProduct(
                m: ic, n: oc, k: pixels.count, a: input.pixels(pixels, channels: ic, scratch: dY + chunk * oc), lda: ic,
                b: dY, ldb: oc, c: worker == 0 ? dW : partials + (worker - 1) * size, ldc: oc)
            }
            if let dX {
              inputGradientProduct(dY, pixels.count, dX + pixels.lowerBound * ic)
              inputGradientWritten?(worker, pixels, dX + pixels.lowerBound * ic)
            }
          }
        }
      }
      if let dW {
        for worker in 1..<used { addInParallel(dW, partials + (worker - 1) * size, count: size) }
      }
    }
  }
}


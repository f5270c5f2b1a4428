import Foundation

/// Times the engine's GEMM and convolution kernels on representative shapes (the shapes of
/// ResNet and MobileNet layers) and reports GFLOP/s: what `podium bench --kernels` prints.
///
/// Every kernel is first checked against a direct computation of sampled outputs — the
/// forward's outputs, and the backward's input and weight gradients — so a fast but wrong
/// kernel fails instead of reporting a number. Inputs are seeded random
/// values; each measurement is the median of `repeats` timed runs after one warm-up run.
public struct KernelBenchmark {
  /// One measured kernel.
  public struct Result: Equatable {
    /// Stable identifier, e.g. `sgemm_2048`, `conv3x3_64_56_fwd`, `dw3x3_32_112_bwd`.
    public var name: String
    /// Median wall time of one call, in milliseconds.
    public var milliseconds: Double
    /// Floating-point operations per second, in billions.
    public var gflops: Double

    /// `{"name":"sgemm_2048","gflops":180.1,"ms":95.3}`.
    public var jsonLine: String {
      String(format: "{\"name\":\"%@\",\"gflops\":%.2f,\"ms\":%.3f}", name, gflops, milliseconds)
    }

    /// A fixed-width table row.
    public var tableRow: String {
      name.padding(toLength: 26, withPad: " ", startingAt: 0)
        + String(format: "%8.2f %10.1f", milliseconds, gflops)
    }
  }

  /// A kernel failed its correctness check before timing.
  public struct ValidationFailure: Error, CustomStringConvertible {
    public var name: String, detail: String
    public var description: String { "benchmark \(name) computed a wrong result: \(detail)" }
  }

  public var batch: Int
  public var repeats: Int

  /// Creates a benchmark for convolutions on `batch` images.
  public init(batch: Int = 32, repeats: Int = 5) {
    (self.batch, self.repeats) = (batch, repeats)
  }

  /// Runs every benchmark and returns the results in a fixed order.
  public func run() throws -> [Result] {
    var results = [try gemmBenchmark(1024), try gemmBenchmark(2048)]
    for spec in ConvBenchmarkSpec.standard(batch: batch) {
      results += try convolutionBenchmarks(spec)
    }
    for (side, channels) in [(112, 32), (56, 144)] {
      results += try normalizationActivationBenchmarks(rows: batch * side * side, channels: channels, name: "bn_relu6_bwd_\(channels)_\(side)")
    }
    return results
  }

  // MARK: - GEMM

  private func gemmBenchmark(_ size: Int) throws -> Result {
    var rng = SeededGenerator(seed: UInt64(size))
    let a = Tensor.randomUniform(shape: [size, size], bound: 1, rng: &rng)
    let b = Tensor.randomUniform(shape: [size, size], bound: 1, rng: &rng)
    var c = Tensor(shape: [size, size])
    let run = {
      gemm(transposeA: false, transposeB: false, m: size, n: size, k: size, a: a.pointer, lda: size,
           b: b.pointer, ldb: size, c: c.mutablePointer(), ldc: size)
    }
    run()
    try checkSamples("sgemm_\(size)", actual: c, count: 16, seed: 1) { index in
      let (i, j) = (index / size, index % size)
      return (0..<size).reduce(0.0) { $0 + Double(a.pointer[i * size + $1]) * Double(b.pointer[$1 * size + j]) }
    }
    return measure("sgemm_\(size)", flops: 2 * pow(Double(size), 3), run)
  }

  // MARK: - Convolutions

  private func convolutionBenchmarks(_ spec: ConvBenchmarkSpec) throws -> [Result] {
    let g = spec.geometry
    var rng = SeededGenerator(seed: 7)
    let input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
    let weightShape = spec.depthwise
      ? [g.kernelHeight, g.kernelWidth, g.inChannels]
      : [g.kernelHeight, g.kernelWidth, g.inChannels, g.outChannels]
    let weight = Tensor.randomUniform(shape: weightShape, bound: 0.1, rng: &rng)
    var output = Tensor(shape: g.outputShape)
    let dY = Tensor.randomUniform(shape: g.outputShape, bound: 1, rng: &rng)
    var dX = Tensor(shape: g.inputShape), dW = Tensor(shape: weightShape)
    let forwardKernel = spec.depthwise ? depthwiseConv2dForward : conv2dForward
    let backwardKernel = spec.depthwise ? depthwiseConv2dBackward : conv2dBackward
    let forward = { forwardKernel(input.pointer, weight.pointer, output.mutablePointer(), g, ChannelEpilogue(), nil) }
    let backward = {
      backwardKernel(input.pointer, weight.pointer, dY.pointer, dX.mutablePointer(), dW.mutablePointer(), nil, g)
    }
    forward()
    try checkSamples(spec.name + "_fwd", actual: output, count: 32, seed: 2) {
      directConvolutionOutput(index: $0, input: input, weight: weight, geometry: g, depthwise: spec.depthwise)
    }
    backward()
    try checkSamples(spec.name + "_bwd dX", actual: dX, count: 32, seed: 3) {
      directConvolutionInputGradient(index: $0, dY: dY, weight: weight, geometry: g, depthwise: spec.depthwise)
    }
    try checkSamples(spec.name + "_bwd dW", actual: dW, count: 8, seed: 4) {
      directConvolutionWeightGradient(index: $0, input: input, dY: dY, geometry: g, depthwise: spec.depthwise)
    }
    let flops = spec.depthwise
      ? 2 * Double(g.outputPixels * g.inChannels * g.kernelHeight * g.kernelWidth)
      : g.forwardFLOPs
    return [
      measure(spec.name + "_fwd", flops: flops, forward),
      measure(spec.name + "_bwd", flops: 2 * flops, backward),
    ]
  }

  // MARK: - Batch norm and activation

  /// The backward of a training batch norm followed by ReLU6 over `[rows, channels]`: the
  /// activation's pass then the batch norm's two (`_separate`), and the batch norm's passes
  /// masking the gradient themselves (`_fused`, ``NormalizationActivationPair``), which must
  /// give the same values. FLOP/s counts one operation per value and pass as a throughput
  /// figure; the milliseconds are what to compare.
  private func normalizationActivationBenchmarks(rows: Int, channels c: Int, name: String) throws -> [Result] {
    var rng = SeededGenerator(seed: 9)
    let x = Tensor.randomUniform(shape: [rows, c], bound: 2, rng: &rng), dY = Tensor.randomUniform(shape: [rows, c], bound: 1, rng: &rng)
    let gamma = Tensor.randomUniform(shape: [c], bound: 2, rng: &rng), beta = Tensor.randomUniform(shape: [c], bound: 1, rng: &rng)
    let (mean, variance) = batchNormStatistics(x.pointer, rows: rows, channels: c)
    let invStd = variance.map { 1 / ($0 + 1e-5).squareRoot() }
    var y = Tensor(shape: [rows, c]), masked = Tensor(shape: [rows, c]), separate = Tensor(shape: [rows, c]), fused = Tensor(shape: [rows, c])
    var dGamma = Tensor(shape: [c]), dBeta = Tensor(shape: [c])
    batchNormApply(x.pointer, y.mutablePointer(), rows: rows, channels: c, mean: mean, invStd: invStd, gamma: gamma.pointer, beta: beta.pointer,
                   clamp: .relu6)
    let runSeparate = {
      clampActivationBackward(y: y.pointer, dY: dY.pointer, dX: masked.mutablePointer(), count: rows * c, .relu6)
      batchNormBackward(x: x.pointer, dY: masked.pointer, rows: rows, channels: c, mean: mean, invStd: invStd, gamma: gamma.pointer,
                        batchStatistics: true, dX: separate.mutablePointer(), dGamma: dGamma.mutablePointer(), dBeta: dBeta.mutablePointer())
    }
    let runFused = {
      batchNormBackward(x: x.pointer, dY: dY.pointer, rows: rows, channels: c, mean: mean, invStd: invStd, gamma: gamma.pointer,
                        batchStatistics: true, dX: fused.mutablePointer(), dGamma: dGamma.mutablePointer(), dBeta: dBeta.mutablePointer(),
                        clamp: (.relu6, beta.pointer))
    }
    runSeparate()
    runFused()
    try checkSamples(name + "_fused dX", actual: fused, count: 64, seed: 5) { Double(separate.pointer[$0]) }
    let operations = Double(rows * c) * 3
    return [measure(name + "_separate", flops: operations, runSeparate), measure(name + "_fused", flops: operations, runFused)]
  }

  // MARK: - Measuring and checking

  private func measure(_ name: String, flops: Double, _ body: () -> Void) -> Result {
    body()  // warm-up: page in buffers, grow the allocator
    var times: [Double] = []
    for _ in 0..<repeats {
      let start = DispatchTime.now().uptimeNanoseconds
      body()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    let median = times.sorted()[times.count / 2]
    return Result(name: name, milliseconds: median, gflops: flops / (median * 1e6))
  }

  private func checkSamples(
    _ name: String, actual: Tensor, count: Int, seed: UInt64, expected: (Int) -> Double
  ) throws {
    var rng = SeededGenerator(seed: seed)
    for _ in 0..<count {
      let index = Int(rng.next() % UInt64(actual.count))
      let want = expected(index), got = Double(actual.pointer[index])
      guard abs(want - got) <= 1e-3 * max(1, abs(want)) else {
        throw ValidationFailure(name: name, detail: "value \(index) is \(got), expected \(want)")
      }
    }
  }
}

/// One convolution shape of the kernel benchmark.
struct ConvBenchmarkSpec {
  var name: String
  var geometry: ConvGeometry
  var depthwise: Bool

  /// ResNet's 3×3 64→64 at 56², its stride-2 3×3 64→128, the bottleneck's 1×1 256→64,
  /// MobileNetV2's depthwise 3×3 on 112²×32, and the first layers of MobileNetV2 (3×3 stride 2,
  /// RGB to 32 channels) and of ResNet (7×7 stride 2, RGB to 64) on 224² images.
  static func standard(batch n: Int) -> [ConvBenchmarkSpec] {
    func make(_ name: String, _ hw: Int, _ ic: Int, _ oc: Int, _ k: Int, _ s: Int, _ dw: Bool) -> ConvBenchmarkSpec {
      let g = ConvGeometry(input: (n, hw, hw, ic), outChannels: oc, kernel: (k, k), stride: s,
                           padding: .symmetric(k / 2))
      return ConvBenchmarkSpec(name: name, geometry: g, depthwise: dw)
    }
    return [
      make("conv3x3_64_56", 56, 64, 64, 3, 1, false),
      make("conv3x3s2_64_56", 56, 64, 128, 3, 2, false),
      make("conv1x1_256_64_56", 56, 256, 64, 1, 1, false),
      make("dw3x3_32_112", 112, 32, 32, 3, 1, true),
      make("stem3x3s2_3_32_224", 224, 3, 32, 3, 2, false),
      make("stem7x7s2_3_64_224", 224, 3, 64, 7, 2, false),
    ]
  }
}

/// One output value of a dense or depthwise convolution, computed directly in Double.
func directConvolutionOutput(
  index: Int, input: Tensor, weight: Tensor, geometry g: ConvGeometry, depthwise: Bool
) -> Double {
  let o = index % g.outChannels
  let (n, oh, ow) = g.pixelCoordinates(index / g.outChannels)
  var sum = 0.0
  g.forEachTap(oh: oh, ow: ow) { kh, kw, ih, iw in
    let pixel = input.pointer + ((n * g.height + ih) * g.width + iw) * g.inChannels
    sum += tapSum(pixel, weight: weight, tap: kh * g.kernelWidth + kw, fixed: o, overInputs: true, geometry: g, depthwise: depthwise)
  }
  return sum
}

/// One tap's contribution in Double: the pixel's channels times the tap's weights, the
/// output channel `fixed` held (`overInputs`: a forward sum over input channels) or the
/// input channel `fixed` held (an input gradient's sum over output channels); depthwise,
/// the one channel `fixed`.
private func tapSum(
  _ pixel: UnsafePointer<Float>, weight: Tensor, tap: Int, fixed: Int, overInputs: Bool, geometry g: ConvGeometry, depthwise: Bool
) -> Double {
  if depthwise { return Double(pixel[fixed]) * Double(weight.pointer[tap * g.inChannels + fixed]) }
  var sum = 0.0
  for channel in 0..<(overInputs ? g.inChannels : g.outChannels) {
    let (i, o) = overInputs ? (channel, fixed) : (fixed, channel)
    sum += Double(pixel[channel]) * Double(weight.pointer[(tap * g.inChannels + i) * g.outChannels + o])
  }
  return sum
}

/// One value of a convolution's input gradient, computed directly in Double: the sum over
/// every output pixel whose window covers the input pixel.
func directConvolutionInputGradient(
  index: Int, dY: Tensor, weight: Tensor, geometry g: ConvGeometry, depthwise: Bool
) -> Double {
  let i = index % g.inChannels, pixel = index / g.inChannels
  let iw = pixel % g.width, ih = (pixel / g.width) % g.height, n = pixel / (g.width * g.height)
  var sum = 0.0
  for kh in 0..<g.kernelHeight {
    let rowStart = ih + g.padTop - kh
    guard rowStart >= 0, rowStart % g.stride == 0, rowStart / g.stride < g.outHeight else { continue }
    for kw in 0..<g.kernelWidth {
      let columnStart = iw + g.padLeft - kw
      guard columnStart >= 0, columnStart % g.stride == 0, columnStart / g.stride < g.outWidth else { continue }
      let out = dY.pointer + ((n * g.outHeight + rowStart / g.stride) * g.outWidth + columnStart / g.stride) * g.outChannels
      sum += tapSum(out, weight: weight, tap: kh * g.kernelWidth + kw, fixed: i, overInputs: false, geometry: g, depthwise: depthwise)
    }
  }
  return sum
}

/// One value of a convolution's weight gradient (`[KH, KW, IC, OC]`, or `[KH, KW, C]`
/// depthwise), computed directly in Double over every output pixel of the batch.
func directConvolutionWeightGradient(
  index: Int, input: Tensor, dY: Tensor, geometry g: ConvGeometry, depthwise: Bool
) -> Double {
  let o = depthwise ? index % g.inChannels : index % g.outChannels
  let i = depthwise ? o : (index / g.outChannels) % g.inChannels
  let tap = depthwise ? index / g.inChannels : index / (g.outChannels * g.inChannels)
  let (kh, kw) = (tap / g.kernelWidth, tap % g.kernelWidth)
  var sum = 0.0
  for r in 0..<(g.batch * g.outHeight * g.outWidth) {
    let (n, oh, ow) = g.pixelCoordinates(r)
    let ih = oh * g.stride - g.padTop + kh, iw = ow * g.stride - g.padLeft + kw
    guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
    sum += Double(input.pointer[((n * g.height + ih) * g.width + iw) * g.inChannels + i]) * Double(dY.pointer[r * g.outChannels + o])
  }
  return sum
}


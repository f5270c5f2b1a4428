@testable import Engine
import EngineTestSupport
import XCTest

/// A folded convolution and the max pooling after it run band by band where the convolution
/// reads its windows in place (ResNet's first layers); the pooled output must be, bit for bit,
/// what the folded convolution and the pooling give one after the other, and within the
/// summation tolerance what the recorded layers give one by one.
final class ConvolutionPoolChainTests: XCTestCase {
  private struct Case: CustomStringConvertible {
    var kernel: Int, stride: Int, channels: (in: Int, out: Int), activation: ClampActivation?
    var pool: (kernel: Int, stride: Int, padding: Int), height: Int, width: Int
    var description: String {
      "\(kernel)x\(kernel)/\(stride) \(channels.in)→\(channels.out) \(activation.map { "\($0)" } ?? "linear"), pool \(pool), \(height)×\(width)"
    }
  }

  func testBandByBand_matchesLayerByLayer() throws {
    let cases = [
      // ResNet's stem: 7×7 stride 2 (narrow where the AVX-512 kernels run, im2col elsewhere), 3×3 pool stride 2.
      Case(kernel: 7, stride: 2, channels: (3, 16), activation: .relu, pool: (3, 2, 1), height: 29, width: 23),
      // Narrow on every variant (27 values a window); a pool that leaves the last row out.
      Case(kernel: 3, stride: 1, channels: (3, 8), activation: nil, pool: (2, 2, 0), height: 11, width: 13),
      Case(kernel: 3, stride: 2, channels: (4, 24), activation: .relu6, pool: (3, 2, 1), height: 18, width: 9),
    ]
    let saved = ConvolutionPoolChain.bandFloats
    defer { ConvolutionPoolChain.bandFloats = saved }
    try withEveryMatrixKernel { _ in try withEvery("case", in: cases) { c in
      var rng = SeededGenerator(seed: 11)
      let layers = evaluationChain(
        c.channels.in, c.channels.out, kernel: c.kernel, stride: c.stride, padding: .symmetric(c.kernel / 2), groups: 1,
        c.activation, &rng)
      let pool = MaxPool2D(kernel: c.pool.kernel, stride: c.pool.stride, padding: .symmetric(c.pool.padding))
      let input = Tensor.randomUniform(shape: [2, c.height, c.width, c.channels.in], bound: 2, rng: &rng)
      XCTAssertNotNil(ConvolutionPoolChain((layers + [pool]).map { ("", $0) }, at: 0), "the chain is recognised")

      var recorded = input
      for layer in layers + [pool] { recorded = try layer.forward(recorded) }
      let folded = try GradientRecording.withoutGradients { try pool.forward(Sequential(layers)(input)) }
      // One pooled row a band (many bands, overlapping windows), then the default.
      for bandFloats in [1, saved] {
        ConvolutionPoolChain.bandFloats = bandFloats
        let banded = try GradientRecording.withoutGradients { try Sequential(layers + [pool])(input) }
        assertClose(banded, folded, relative: 0, absolute: 0, "banded, \(bandFloats) floats a band")
        assertClose(banded, recorded, scaled: Tolerance.summation, "banded against the recorded layers")
      }
    } }
  }

  /// Inputs the bands do not take run layer by layer and fail with those layers' errors.
  func testWrongInputs_nameTheLayerThatRejectsThem() throws {
    var rng = SeededGenerator(seed: 12)
    let layers = evaluationChain(3, 8, kernel: 3, stride: 1, padding: .symmetric(0), groups: 1, .relu, &rng)
    let network = Sequential(layers + [MaxPool2D(kernel: 3, stride: 2, padding: .symmetric(0))])
    XCTAssertThrowsError(try GradientRecording.withoutGradients { try network(Tensor(shape: [1, 6, 6, 4])) }) { error in
      XCTAssertTrue("\(error)".contains("Conv2D input"), "\(error)")
    }
    XCTAssertThrowsError(try GradientRecording.withoutGradients { try network(Tensor(shape: [1, 4, 4, 3])) }) { error in
      XCTAssertTrue("\(error)".contains("MaxPool2D input (window 3x3)"), "\(error)")
    }
  }
}

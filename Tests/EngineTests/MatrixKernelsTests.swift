@testable import Engine
import EngineTestSupport
import XCTest

/// Every matrix-kernel variant the CPU runs (OpenBLAS everywhere, the AVX-512 panel GEMM
/// and transposed product where the CPU has them) against the same direct sums, on the
/// shapes they take: inner dimensions of 64 and more, column counts that leave a partial
/// 64-column panel or take a narrower tile, and row counts that leave a partial tile or are
/// shorter than one.
final class MatrixKernelsTests: XCTestCase {
  /// The panel GEMM on its own, for every tile width (16, 32, 48 and 64 columns, and a
  /// partial panel after full ones) and row counts below, at and past a tile's rows and a
  /// block's, against the Double triple loop; the epilogue's scale and shift included.
  func testPanelGEMM_everyTileShape_matchesReference() {
    withEveryMatrixKernel { variant in
      guard variant == .avx512 else { return }
      withEvery("columns", in: [16, 24, 40, 64, 100]) { n in
        withEvery("rows", in: [1, 7, 13, 101]) { m in
          let k = 70
          var rng = SeededGenerator(seed: 26)
          let a = Tensor.randomUniform(shape: [m, k], bound: 1, rng: &rng), b = Tensor.randomUniform(shape: [k, n], bound: 1, rng: &rng)
          let scale = Tensor.randomUniform(shape: [n], bound: 2, rng: &rng), shift = Tensor.randomUniform(shape: [n], bound: 1, rng: &rng)
          var product = Tensor(shape: [m, n])
          panelGEMM(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n, transposeB: false, c: product.mutablePointer(),
                    ldc: n, epilogue: ChannelEpilogue(scale: scale.pointer, shift: shift.pointer))
          var expected = Tensor(shape: [m, n])
          gemmReference(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n,
                        c: expected.mutablePointer(), ldc: n)
          let folded = expected.scalars.enumerated().map { $1 * scale.pointer[$0 % n] + shift.pointer[$0 % n] }
          assertClose(product.scalars, folded, scaled: Tolerance.summation, "C")
        }
      }
    }
  }

  /// `C += Aᵀ·B` (weight gradients) in every variant, added onto C's values: every tile
  /// width, rows (C's) below and past a tile's, and more rows of A and B than one step of
  /// the kernel's L2 blocking takes, split among workers.
  func testTransposedProduct_everyTileShape_matchesReference() {
    withEveryMatrixKernel { _ in
      withEvery("columns", in: [16, 24, 40, 100]) { n in
        withEvery("rows", in: [3, 13, 29]) { m in
          withEvery("inner", in: [5, 2500]) { k in
            var rng = SeededGenerator(seed: 27)
            let a = Tensor.randomUniform(shape: [k, m], bound: 1, rng: &rng), b = Tensor.randomUniform(shape: [k, n], bound: 1, rng: &rng)
            let initial = Tensor.randomUniform(shape: [m, n], bound: 1, rng: &rng)
            var sums = initial
            addTransposedProductInParallel(m: m, n: n, k: k, a: a.pointer, lda: m, b: b.pointer, ldb: n, c: sums.mutablePointer(), ldc: n)
            var expected = Tensor(shape: [m, n])
            gemmReference(transposeA: true, transposeB: false, m: m, n: n, k: k, a: a.pointer, lda: m, b: b.pointer, ldb: n,
                          c: expected.mutablePointer(), ldc: n)
            assertClose(sums.scalars, zip(expected.scalars, initial.scalars).map(+), scaled: Tolerance.summation, "C")
          }
        }
      }
    }
  }

  /// The widest variant unless `PODIUM_MATRIX_KERNELS` names another the CPU has.
  func testVariantChoice_widestUnlessTheEnvironmentNamesAnother() {
    let widest = MatrixKernels.supported.last!
    XCTAssertEqual(MatrixKernels.supported.first, .openBLAS)
    XCTAssertEqual(MatrixKernels.supported.contains(.avx512), OpenBLASKernelChoice.cpuFlags().contains("avx512f"))
    XCTAssertEqual(MatrixKernels.chosen(environment: [:]), widest)
    XCTAssertEqual(MatrixKernels.chosen(environment: ["PODIUM_MATRIX_KERNELS": "OpenBLAS"]), .openBLAS)
    XCTAssertEqual(MatrixKernels.chosen(environment: ["PODIUM_MATRIX_KERNELS": "sse9"]), widest)
    XCTAssertEqual(MatrixKernels.chosen(environment: ["PODIUM_MATRIX_KERNELS": "avx512"]), widest)
  }

  /// A 1×1 convolution with a folded batch norm and ReLU6 (the epilogue inside the panel
  /// GEMM) against the direct sums with the epilogue applied after; its output stored plainly
  /// and, as one larger than the caches is, non-temporally where a vector is aligned.
  func testPointwiseConvolution_withEpilogue_matchesDirectSums() {
    let threshold = ChannelKernels.streamingThreshold
    defer { ChannelKernels.streamingThreshold = threshold }
    withEveryMatrixKernel { _ in
      withEvery("channels and streaming", in: [(64, 64, false), (64, 64, true), (70, 100, true), (130, 24, false)]) { (ic, oc, streamed) in
        ChannelKernels.streamingThreshold = streamed ? 0 : .max
        let g = ConvGeometry(input: (2, 5, 5, ic), outChannels: oc, kernel: (1, 1), stride: 1, padding: .symmetric(0))
        var rng = SeededGenerator(seed: 21)
        let input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
        let weight = Tensor.randomUniform(shape: [1, 1, ic, oc], bound: 0.3, rng: &rng)
        let scale = Tensor.randomUniform(shape: [oc], bound: 2, rng: &rng), shift = Tensor.randomUniform(shape: [oc], bound: 1, rng: &rng)
        var output = Tensor(shape: g.outputShape)
        conv2dForward(input: input.pointer, weight: weight.pointer, output: output.mutablePointer(), geometry: g,
                      epilogue: ChannelEpilogue(scale: scale.pointer, shift: shift.pointer, clamp: .relu6))
        let expected = (0..<output.count).map { index -> Float in
          let o = index % oc
          let sum = directConvolutionOutput(index: index, input: input, weight: weight, geometry: g, depthwise: false)
          return Float(min(max(sum * Double(scale.pointer[o]) + Double(shift.pointer[o]), 0), 6))
        }
        assertClose(output.scalars, expected, scaled: Tolerance.summation, "y")
      }
    }
  }

  /// A 1×1 convolution's input gradient (the panel GEMM on the transposed weight) and
  /// weight gradient.
  func testPointwiseGradients_matchDirectSums() {
    withEveryMatrixKernel { _ in
      withEvery("channels", in: [(24, 64), (100, 70)]) { (ic, oc) in
        assertBackwardMatchesDirectSums(
          ConvGeometry(input: (2, 4, 5, ic), outChannels: oc, kernel: (1, 1), stride: 1, padding: .symmetric(0)), seed: 24, weightBound: 0.3)
      }
    }
  }

  /// A strided convolution through im2col: the forward's product (inner dimension
  /// KH·KW·IC) with its epilogue, and the input gradient's product on the transposed weight
  /// (inner dimension OC), both packed once for every chunk.
  func testStridedConvolution_matchesDirectSums() {
    withEveryMatrixKernel { _ in
      withEvery("channels", in: [(8, 64), (16, 70)]) { (ic, oc) in
        let g = ConvGeometry(input: (2, 9, 8, ic), outChannels: oc, kernel: (3, 3), stride: 2, padding: .symmetric(1))
        var rng = SeededGenerator(seed: 25)
        let input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
        let weight = Tensor.randomUniform(shape: [3, 3, ic, oc], bound: 0.3, rng: &rng)
        let shift = Tensor.randomUniform(shape: [oc], bound: 1, rng: &rng)
        var output = Tensor(shape: g.outputShape)
        conv2dForward(input: input.pointer, weight: weight.pointer, output: output.mutablePointer(), geometry: g,
                      epilogue: ChannelEpilogue(shift: shift.pointer, clamp: .relu))
        let expected = (0..<output.count).map { index in
          Float(max(directConvolutionOutput(index: index, input: input, weight: weight, geometry: g, depthwise: false)
            + Double(shift.pointer[index % oc]), 0))
        }
        assertClose(output.scalars, expected, scaled: Tolerance.summation, "y")
        assertBackwardMatchesDirectSums(g, seed: 24, weightBound: 0.3)
      }
    }
  }

  /// Winograd's 36 products per block, with the transformed filters written straight into
  /// panels (a partial last panel, zero-padded, when the output channels are not a
  /// multiple of 64), forward and input gradient (itself a Winograd forward).
  func testWinogradConvolution_matchesDirectSums() {
    withEveryMatrixKernel { _ in
      withEvery("channels", in: [(64, 72), (80, 64)]) { (ic, oc) in
        let g = ConvGeometry(input: (2, 9, 7, ic), outChannels: oc, kernel: (3, 3), stride: 1, padding: .symmetric(1))
        XCTAssertTrue(g.suitsWinograd)
        var rng = SeededGenerator(seed: 22)
        let input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
        let weight = Tensor.randomUniform(shape: [3, 3, ic, oc], bound: 0.3, rng: &rng)
        var output = Tensor(shape: g.outputShape)
        conv2dForward(input: input.pointer, weight: weight.pointer, output: output.mutablePointer(), geometry: g, epilogue: ChannelEpilogue())
        let expected = (0..<output.count).map {
          Float(directConvolutionOutput(index: $0, input: input, weight: weight, geometry: g, depthwise: false))
        }
        assertClose(output.scalars, expected, scaled: Tolerance.winograd, "y")
        assertBackwardMatchesDirectSums(g, seed: 24, weightBound: 0.3)
      }
    }
  }

  /// Winograd's output tiles go through the whole epilogue — scale, shift, a residual addend
  /// and the clamp, in that order — on every channel, a last block of fewer than 16 included,
  /// in every variant; and a NaN in the input stays NaN through the clamp.
  func testWinogradEpilogue_matchesDirectSumsAndKeepsNaN() {
    withEveryMatrixKernel { _ in
      let (ic, oc) = (16, 20)
      let g = ConvGeometry(input: (2, 5, 6, ic), outChannels: oc, kernel: (3, 3), stride: 1, padding: .symmetric(1))
      XCTAssertTrue(g.suitsWinograd)
      var rng = SeededGenerator(seed: 31)
      var input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
      let weight = Tensor.randomUniform(shape: [3, 3, ic, oc], bound: 0.5, rng: &rng)
      let scale = Tensor.randomUniform(shape: [oc], bound: 2, rng: &rng), shift = Tensor.randomUniform(shape: [oc], bound: 1, rng: &rng)
      let residual = Tensor.randomUniform(shape: g.outputShape, bound: 2, rng: &rng)
      func convolved(_ input: Tensor) -> Tensor {
        var output = Tensor(shape: g.outputShape)
        var epilogue = ChannelEpilogue(scale: scale.pointer, shift: shift.pointer, clamp: .relu6)
        epilogue.addend = ChannelEpilogue.Addend(values: residual.pointer, output: output.mutablePointer())
        conv2dForward(input: input.pointer, weight: weight.pointer, output: output.mutablePointer(), geometry: g, epilogue: epilogue)
        return output
      }
      let expected = (0..<g.outputShape.reduce(1, *)).map { index in
        let sum = directConvolutionOutput(index: index, input: input, weight: weight, geometry: g, depthwise: false)
        let o = index % oc
        let value = sum * Double(scale.pointer[o]) + Double(shift.pointer[o]) + Double(residual.pointer[index])
        return Float(min(max(value, 0), 6))
      }
      assertClose(convolved(input).scalars, expected, scaled: Tolerance.winograd, "y")
      // Image 1, pixel (2, 3), channel 4: every output pixel whose window reads it is NaN.
      input.mutablePointer()[((1 * 5 + 2) * 6 + 3) * ic + 4] = .nan
      let poisoned = convolved(input)
      for oh in 1...3 {
        for ow in 2...4 {
          let pixel = ((1 * 5 + oh) * 6 + ow) * oc
          XCTAssertTrue(poisoned.scalars[pixel..<pixel + oc].allSatisfy(\.isNaN), "pixel (\(oh), \(ow))")
        }
      }
    }
  }

  /// A NaN from a diverged run survives the epilogue's ReLU in every variant, so the
  /// trainer's non-finite-loss check still sees it.
  func testEpilogueClamp_keepsNaN() {
    withEveryMatrixKernel { _ in
      let g = ConvGeometry(input: (1, 2, 3, 64), outChannels: 8, kernel: (1, 1), stride: 1, padding: .symmetric(0))
      var rng = SeededGenerator(seed: 23)
      var input = Tensor.randomUniform(shape: g.inputShape, bound: 1, rng: &rng)
      input.mutablePointer()[64 + 5] = .nan  // pixel 1
      let weight = Tensor.randomUniform(shape: [1, 1, 64, 8], bound: 0.3, rng: &rng)
      var output = Tensor(shape: g.outputShape)
      conv2dForward(input: input.pointer, weight: weight.pointer, output: output.mutablePointer(), geometry: g,
                    epilogue: ChannelEpilogue(clamp: .relu))
      let (first, second) = (output.scalars[0..<8], output.scalars[8..<16])
      XCTAssertTrue(second.allSatisfy(\.isNaN), "\(second)")
      XCTAssertTrue(first.allSatisfy { !$0.isNaN && $0 >= 0 }, "\(first)")
    }
  }
}

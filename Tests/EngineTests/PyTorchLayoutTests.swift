import Engine
import XCTest

/// Layout conversions from PyTorch's checkpoints to Podium's, against index arithmetic.
final class PyTorchLayoutTests: XCTestCase {
  private func sequence(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map(Float.init))
  }

  func testConvolution_OIHW_becomesHWIO() {
    let (oc, ic, kh, kw) = (3, 2, 2, 4)
    let converted = PyTorchLayout.convolution.toPodium(sequence([oc, ic, kh, kw]))
    XCTAssertEqual(converted.shape, [kh, kw, ic, oc])
    for o in 0..<oc { for i in 0..<ic { for h in 0..<kh { for w in 0..<kw {
      XCTAssertEqual(converted[h, w, i, o], Float(((o * ic + i) * kh + h) * kw + w))
    } } } }
  }

  func testDepthwise_C1HW_becomesHWC() {
    let converted = PyTorchLayout.depthwise.toPodium(sequence([5, 1, 3, 3]))
    XCTAssertEqual(converted.shape, [3, 3, 5])
    XCTAssertEqual(converted[2, 1, 4], Float((4 * 3 + 2) * 3 + 1))
  }

  func testLinearAfterFlatten_CHWColumns_becomeHWCColumns() {
    let (out, c, h, w) = (2, 3, 2, 2)
    let converted = PyTorchLayout.linearAfterFlatten(channels: c, height: h, width: w).toPodium(sequence([out, c * h * w]))
    XCTAssertEqual(converted.shape, [out, c * h * w])
    for o in 0..<out { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
      // Podium's column (y, x, ch) holds PyTorch's column (ch, y, x).
      XCTAssertEqual(converted[o, (y * w + x) * c + ch], Float(o * c * h * w + (ch * h + y) * w + x))
    } } } }
  }
}

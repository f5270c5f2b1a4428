import Engine
import EngineTestSupport
@testable import Imaging
import XCTest

final class AugmentationTests: XCTestCase {
  /// A 32×24 image with a gradient and a bright square in the top-left quadrant.
  private func sample() -> FloatImage {
    var values: [Float] = []
    for y in 0..<24 { for x in 0..<32 {
      let bright: Float = x < 10 && y < 8 ? 200 : 0
      values += [Float(x * 4) + bright / 4, Float(y * 5), bright]
    } }
    return FloatImage(width: 32, height: 24, values: values)
  }

  func testSameSeedSameView_otherSeedOtherView() {
    let image = sample()
    for policy in [Augmentation.keras, .light, .strong] {
      var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5), c = SeededGenerator(seed: 6)
      let first = policy.apply(image, size: 16, rng: &a)
      XCTAssertEqual(first, policy.apply(image, size: 16, rng: &b))
      XCTAssertNotEqual(first, policy.apply(image, size: 16, rng: &c))
      XCTAssertEqual([first.width, first.height], [16, 16])
      XCTAssertTrue(first.values.allSatisfy { $0 >= 0 && $0 <= 255 })
    }
  }

  func testNoAugmentation_isAPlainResize() {
    var rng = SeededGenerator(seed: 1)
    XCTAssertEqual(Augmentation.none.apply(sample(), size: 16, rng: &rng), sample().resized(width: 16, height: 16))
  }

  func testFlip_mirrorsColumns() {
    let image = sample(), flipped = image.flippedHorizontally()
    XCTAssertEqual(flipped.values[0..<3], image.values[(31 * 3)..<(32 * 3)])
    XCTAssertEqual(flipped.flippedHorizontally(), image)
  }

  /// A quarter turn about the centre moves the bright top-left square to the top-right
  /// (rotation counter-clockwise in image coordinates maps output → input as Keras does).
  func testAffine_quarterTurnAndShiftMoveTheContent() {
    let image = sample().resized(width: 24, height: 24)
    let turned = image.affine(AffineMap(rotation: .pi / 2, shear: 0, zoomX: 1, zoomY: 1, shiftX: 0, shiftY: 0, size: 24))
    let identity = image.affine(AffineMap(rotation: 0, shear: 0, zoomX: 1, zoomY: 1, shiftX: 0, shiftY: 0, size: 24))
    assertClose(identity.values, image.values, relative: 0, absolute: 1e-3, "identity map")
    func blue(_ img: FloatImage, _ x: Int, _ y: Int) -> Float { img.values[(y * 24 + x) * 3 + 2] }
    XCTAssertGreaterThan(blue(image, 2, 2), 100)
    let corners = [blue(turned, 2, 2), blue(turned, 21, 2), blue(turned, 2, 21), blue(turned, 21, 21)]
    XCTAssertEqual(corners.filter { $0 > 100 }.count, 1, "exactly one corner holds the square after a quarter turn: \(corners)")
    XCTAssertLessThan(blue(turned, 2, 2), 100)
  }

  func testColorJitter_brightnessStaysWithinItsRange() {
    var policy = Augmentation()
    policy.colorJitter = .init(brightness: 0.3)
    let plain = sample().resized(width: 16, height: 16)
    let mean = plain.values.reduce(0, +)
    for seed in 0..<20 as Range<UInt64> {
      var rng = SeededGenerator(seed: seed)
      let ratio = policy.apply(sample(), size: 16, rng: &rng).values.reduce(0, +) / mean
      XCTAssertTrue((0.69...1.31).contains(ratio), "brightness factor \(ratio)")
    }
  }

  func testAreaResize_averagesBlocks() {
    let image = FloatImage(width: 4, height: 2, values: (0..<24).map(Float.init))
    let half = image.resized(width: 2, height: 1, filter: .area)
    // Output (0,0) averages pixels (0,0),(1,0),(0,1),(1,1): channel 0 values 0, 3, 12, 15.
    XCTAssertEqual(half.values[0], (0 + 3 + 12 + 15) / 4, accuracy: 1e-4)
  }
}

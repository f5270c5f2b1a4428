import Engine
import Foundation
import Imaging

/// The embedded default dataset of `podium demo`: eight classes of procedurally drawn
/// shapes in the Natural Images layout (`natural_images/<class>/<class>_NNNN.jpg`), plus an
/// unlabelled `test/<id>.jpg` folder for a submission with its Kaggle-style answer key
/// `answers.csv` (`id,label,Usage`, 30% of the rows Public) for `podium score`. Each image varies the shape's colour,
/// size, position and rotation over a textured, noisy background, so a small CNN trained
/// from scratch on a few dozen images per class does not reach 100%. The same seed writes
/// the same files.
public struct DemoDataset {
  /// The classes, in order.
  public static let classNames = ["circle", "square", "triangle", "cross", "ring", "star", "stripes", "crescent"]

  public var imagesPerClass = 80
  public var testImagesPerClass = 10
  public var size = 64
  public var seed: UInt64 = 2024

  /// The demo set (`podium demo`'s defaults), or a smaller one for tests.
  public init(imagesPerClass: Int = 80, testImagesPerClass: Int = 10, size: Int = 64) {
    (self.imagesPerClass, self.testImagesPerClass, self.size) = (imagesPerClass, testImagesPerClass, size)
  }

  /// Writes the dataset under `root` (created if needed) and returns `root`.
  @discardableResult
  public func write(to root: URL) throws -> URL {
    var rng = SeededGenerator(seed: seed)
    for (label, name) in Self.classNames.enumerated() {
      let folder = root.appendingPathComponent("natural_images/\(name)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      for index in 0..<imagesPerClass {
        let file = folder.appendingPathComponent(String(format: "%@_%04d.jpg", name, index))
        try ImageEncoder.encode(draw(label, rng: &rng), asPNG: false).write(to: file)
      }
    }
    let test = root.appendingPathComponent("test")
    try FileManager.default.createDirectory(at: test, withIntermediateDirectories: true)
    let count = testImagesPerClass * Self.classNames.count
    var answers = ["id,label,Usage"]
    let publicIDs = Set((1...max(count, 1)).shuffled(using: &rng).prefix(Int((Double(count) * 0.3).rounded())))
    for id in (0..<count).map({ $0 + 1 }) {
      let label = Int(rng.next() % UInt64(Self.classNames.count))
      try ImageEncoder.encode(draw(label, rng: &rng), asPNG: false).write(to: test.appendingPathComponent("\(id).jpg"))
      answers.append("\(id),\(Self.classNames[label]),\(publicIDs.contains(id) ? "Public" : "Private")")
    }
    if count > 0 { try (answers.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("answers.csv"), atomically: true, encoding: .utf8) }
    return root
  }

  /// One image of class `label`.
  func draw(_ label: Int, rng: inout SeededGenerator) -> Image {
    let shape = Shape(label: label, rng: &rng, size: Double(size))
    let background = (0..<3).map { _ in Double(rng.nextUniform(40, 200)) }
    let gradient = (Double(rng.nextUniform(-1, 1)), Double(rng.nextUniform(-1, 1)))
    let colour = (0..<3).map { _ in Double(rng.nextUniform(0, 255)) }
    let texture = Double(rng.nextUniform(0.1, 0.6))
    var pixels = [UInt8](repeating: 0, count: size * size * 3)
    for y in 0..<size {
      for x in 0..<size {
        let coverage = shape.coverage(Double(x) + 0.5, Double(y) + 0.5)
        let ripple = sin(Double(x) * texture + Double(y) * texture * 0.7) * 18
        for c in 0..<3 {
          let back = background[c] + (gradient.0 * Double(x) + gradient.1 * Double(y)) + ripple
          let value = back * (1 - coverage) + colour[c] * coverage + Double(rng.nextUniform(-25, 25))
          pixels[(y * size + x) * 3 + c] = UInt8(clamping: Int(value.rounded()))
        }
      }
    }
    return Image(width: size, height: size, pixels: pixels)
  }
}

/// A shape placed in an image: its class, centre, radius and rotation.
private struct Shape {
  let label: Int
  let cx: Double, cy: Double, radius: Double, angle: Double

  init(label: Int, rng: inout SeededGenerator, size: Double) {
    self.label = label
    radius = size * Double(rng.nextUniform(0.18, 0.34))
    cx = Double(rng.nextUniform(Float(radius), Float(size - radius)))
    cy = Double(rng.nextUniform(Float(radius), Float(size - radius)))
    angle = Double(rng.nextUniform(0, 2 * .pi))
  }

  /// How much of the pixel at `(x, y)` the shape covers, 0–1 (a one-pixel soft edge).
  func coverage(_ x: Double, _ y: Double) -> Double {
    let dx = x - cx, dy = y - cy
    let (u, v) = (dx * cos(angle) + dy * sin(angle), -dx * sin(angle) + dy * cos(angle))  // shape coordinates
    let r = (u * u + v * v).squareRoot()
    let distance: Double  // signed: negative inside
    switch label {
    case 0: distance = r - radius
    case 1: distance = max(abs(u), abs(v)) - radius * 0.8
    case 2: distance = max(v - radius * 0.5, max(-v * 0.5 + abs(u) * 0.87 - radius * 0.5, -radius))
    case 3: distance = min(max(abs(u) - radius, abs(v) - radius * 0.3), max(abs(u) - radius * 0.3, abs(v) - radius))
    case 4: distance = abs(r - radius * 0.75) - radius * 0.22
    case 5:
      let spikes = cos(5 * atan2(v, u))
      distance = r - radius * (0.6 + 0.35 * spikes)
    case 6: distance = max(r - radius, abs(sin(u / radius * 3 * .pi)) * radius * 0.3 - radius * 0.12)
    default:
      let inner = ((u - radius * 0.45) * (u - radius * 0.45) + v * v).squareRoot()
      distance = max(r - radius, radius * 0.8 - inner)
    }
    return min(max(0.5 - distance, 0), 1)
  }
}

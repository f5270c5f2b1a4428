import Engine

/// A generated toy image set for end-to-end training tests: four classes of small RGB
/// images with a different pattern each — horizontal stripes, vertical stripes, diagonal
/// stripes and a bright centre square — with random phase, colour and noise, so a small
/// CNN must learn the pattern, not a pixel. Deterministic per seed.
public struct ToyImages {
  /// `[N, size, size, 3]`, values roughly in `[-1, 1]`.
  public var images: Tensor
  /// Class index per image, `0..<4`, balanced.
  public var labels: [Int]
  public static let classCount = 4

  /// Generates `count` images of `size × size` pixels.
  public init(count: Int, size: Int = 12, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    var values = [Float]()
    values.reserveCapacity(count * size * size * 3)
    labels = (0..<count).map { $0 % ToyImages.classCount }
    for label in labels {
      let phase = Int(rng.next() % 4), colour = (0..<3).map { _ in rng.nextUniform(0.5, 1) }
      for y in 0..<size {
        for x in 0..<size {
          let on = ToyImages.pattern(label, x: x, y: y, size: size, phase: phase)
          for channel in 0..<3 {
            values.append((on ? colour[channel] : -colour[channel]) + rng.nextUniform(-0.8, 0.8))
          }
        }
      }
    }
    images = Tensor(shape: [count, size, size, 3], values: values)
  }

  private static func pattern(_ label: Int, x: Int, y: Int, size: Int, phase: Int) -> Bool {
    switch label {
    case 0: return (y + phase) % 4 < 2
    case 1: return (x + phase) % 4 < 2
    case 2: return (x + y + phase) % 4 < 2
    default:
      let margin = size / 4 + phase % 2
      return x >= margin && x < size - margin && y >= margin && y < size - margin
    }
  }

  /// The images at `indices`, as one batch.
  public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) {
    let imageSize = images.count / images.shape[0]
    let all = images.scalars
    var values = [Float]()
    values.reserveCapacity(indices.count * imageSize)
    for i in indices { values += all[(i * imageSize)..<((i + 1) * imageSize)] }
    return (Tensor(shape: [indices.count] + images.shape.dropFirst(), values: values), indices.map { labels[$0] })
  }
}

import Engine
import Foundation
import Imaging

/// The first convolution's filters drawn as a grid of small RGB images, as the seeds look at
/// what a network's first layer learned: each filter scaled to 0–255 by its own range and
/// enlarged with nearest-neighbour pixels.
public enum FilterGrid {
  /// The first RGB convolution of a checkpoint (Podium's `.safetensors` in `[KH, KW, 3, OC]`,
  /// or PyTorch's `[OC, 3, KH, KW]`), as `(name, filters)` with each filter `[KH][KW][3]`
  /// flattened; nil when the file has no such tensor (a head-only checkpoint).
  public static func firstFilters(in url: URL) throws -> (name: String, size: Int, filters: [[Float]])? {
    let checkpoint = try Checkpoint(contentsOf: url)
    let podiumLayout = checkpoint.metadata[CheckpointLayoutTag.key] == CheckpointLayoutTag.podium
    for name in checkpoint.names {
      guard let shape = checkpoint.shape(of: name), shape.count == 4 else { continue }
      if podiumLayout, shape[2] == 3, shape[0] == shape[1] {
        let values = try checkpoint.tensor(named: name).scalars
        let (k, out) = (shape[0], shape[3])
        let filters = (0..<out).map { o in (0..<(k * k * 3)).map { values[$0 * out + o] } }
        return (name, k, filters)
      }
      if !podiumLayout, shape[1] == 3, shape[2] == shape[3] {
        let values = try checkpoint.tensor(named: name).scalars
        let k = shape[2]
        var filters = [[Float]](repeating: [Float](repeating: 0, count: k * k * 3), count: shape[0])
        for o in 0..<shape[0] {
          for c in 0..<3 {
            for pixel in 0..<(k * k) { filters[o][pixel * 3 + c] = values[(o * 3 + c) * k * k + pixel] }
          }
        }
        return (name, k, filters)
      }
    }
    return nil
  }

  /// Up to `limit` filters in rows of `columns`, each `cell` pixels square, 2 pixels apart.
  public static func image(filters: [[Float]], size k: Int, limit: Int = 64, columns: Int = 16, cell: Int = 32) -> Image {
    let shown = Array(filters.prefix(limit))
    let rows = (shown.count + columns - 1) / columns
    let gap = 2, width = columns * (cell + gap) + gap, height = rows * (cell + gap) + gap
    var pixels = [UInt8](repeating: 255, count: width * height * 3)
    for (index, filter) in shown.enumerated() {
      let low = filter.min() ?? 0, high = filter.max() ?? 1
      let scale = high > low ? 255 / (high - low) : 0
      let (left, top) = (gap + (index % columns) * (cell + gap), gap + (index / columns) * (cell + gap))
      for y in 0..<cell {
        for x in 0..<cell {
          let source = ((y * k / cell) * k + x * k / cell) * 3
          for c in 0..<3 {
            pixels[((top + y) * width + left + x) * 3 + c] = UInt8(clamping: Int(((filter[source + c] - low) * scale).rounded()))
          }
        }
      }
    }
    return Image(width: width, height: height, pixels: pixels)
  }
}

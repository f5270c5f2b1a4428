/// Adaptive average pooling to a fixed output size (`torch.nn.AdaptiveAvgPool2d`): output
/// cell `(i, j)` averages input rows `⌊i·H/OH⌋ ..< ⌈(i+1)·H/OH⌉` and the matching columns,
/// so any input size gives `[N, OH, OW, C]` (VGG's 7×7 before its classifier).
public final class AdaptiveAvgPool2D: Layer {
  public let outputSize: (height: Int, width: Int)
  public var isTraining = true
  private var inputShape: [Int]?

  public init(outputSize: (height: Int, width: Int)) {
    self.outputSize = outputSize
  }

  public func forward(_ input: Tensor) throws -> Tensor {
    try checkInput(input, of: "AdaptiveAvgPool2D", rank: 4, lastDimension: nil, letters: "[N, H, W, C]")
    inputShape = input.shape
    let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    var output = Tensor(shape: [n, outputSize.height, outputSize.width, c])
    let x = input.pointer, y = output.mutablePointer()
    forEachCell(h, w) { b, i, j, rows, columns in
      let out = y + ((b * outputSize.height + i) * outputSize.width + j) * c
      for r in rows { for s in columns { addInPlace(out, x + ((b * h + r) * w + s) * c, c) } }
      let scale = 1 / Float(rows.count * columns.count)
      for k in 0..<c { out[k] *= scale }
    }
    return output
  }

  public func backward(_ dY: Tensor, needsInputGradient: Bool) -> Tensor? {
    guard needsInputGradient else { return nil }
    guard let shape = inputShape else { preconditionFailure("AdaptiveAvgPool2D.backward called before forward") }
    let (h, w, c) = (shape[1], shape[2], shape[3])
    var dX = Tensor(shape: shape)
    let g = dY.pointer, d = dX.mutablePointer()
    forEachCell(h, w) { b, i, j, rows, columns in
      let gradient = g + ((b * outputSize.height + i) * outputSize.width + j) * c
      let scale = 1 / Float(rows.count * columns.count)
      for r in rows {
        for s in columns {
          let target = d + ((b * h + r) * w + s) * c
          for k in 0..<c { target[k] += gradient[k] * scale }
        }
      }
    }
    return dX
  }

  /// Calls `body(n, i, j, rows, columns)` for every output cell, images in parallel.
  private func forEachCell(_ h: Int, _ w: Int, _ body: (Int, Int, Int, Range<Int>, Range<Int>) -> Void) {
    let (oh, ow) = outputSize
    Parallel.forEachRange(inputShape![0]) { images in
      for b in images {
        for i in 0..<oh {
          let rows = (i * h / oh)..<(((i + 1) * h + oh - 1) / oh)
          for j in 0..<ow { body(b, i, j, rows, (j * w / ow)..<(((j + 1) * w + ow - 1) / ow)) }
        }
      }
    }
  }
}

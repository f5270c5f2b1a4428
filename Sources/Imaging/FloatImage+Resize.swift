/// The interpolation of a resize.
public enum ResizeFilter: String, Sendable, Codable {
  /// Bilinear with antialiasing, as PIL's `resize(BILINEAR)` and torchvision's
  /// `resize(..., antialias=True)`: when shrinking by `s`, the triangle filter widens to `s`
  /// input pixels so every input pixel contributes.
  case bilinear
  /// Area averaging (PIL's BOX, OpenCV's INTER_AREA): each output pixel is the mean of the
  /// input pixels its footprint covers.
  case area
}

/// Separable resampling. Reference: Pillow `src/libImaging/Resample.c` (`precompute_coeffs`).
extension FloatImage {
  /// The image resized to `w × h`.
  public func resized(width w: Int, height h: Int, filter: ResizeFilter = .bilinear) -> FloatImage {
    precondition(w > 0 && h > 0, "cannot resize to \(w)x\(h)")
    let horizontal = ResampleKernel(from: width, to: w, filter: filter)
    let vertical = ResampleKernel(from: height, to: h, filter: filter)
    var rows = [Float](repeating: 0, count: w * height * 3)  // horizontal pass
    for y in 0..<height {
      for x in 0..<w {
        let (start, taps) = horizontal.window(x)
        for c in 0..<3 {
          var sum: Float = 0
          for k in 0..<taps.count { sum += values[(y * width + start + k) * 3 + c] * taps[k] }
          rows[(y * w + x) * 3 + c] = sum
        }
      }
    }
    var out = [Float](repeating: 0, count: w * h * 3)  // vertical pass
    for y in 0..<h {
      let (start, taps) = vertical.window(y)
      for x in 0..<w {
        for c in 0..<3 {
          var sum: Float = 0
          for k in 0..<taps.count { sum += rows[((start + k) * w + x) * 3 + c] * taps[k] }
          out[(y * w + x) * 3 + c] = sum
        }
      }
    }
    return FloatImage(width: w, height: h, values: out)
  }

  /// Resizes so the shorter side is `side` pixels, the longer one in proportion
  /// (truncated, as torchvision's `Resize(int)` computes it).
  public func resized(shorterSide side: Int) -> FloatImage {
    if width <= height {
      return resized(width: side, height: Int(Double(side) * Double(height) / Double(width)))
    }
    return resized(width: Int(Double(side) * Double(width) / Double(height)), height: side)
  }
}

/// The filter taps of one axis of an antialiased bilinear resize.
struct ResampleKernel {
  private var starts: [Int] = []
  private var taps: [[Float]] = []

  init(from input: Int, to output: Int, filter: ResizeFilter) {
    let scale = Double(input) / Double(output)
    let filterScale = max(scale, 1)
    // Half-width in input pixels: the triangle's 1, the box's ½, widened when shrinking.
    let support = (filter == .bilinear ? 1 : 0.5) * filterScale
    for i in 0..<output {
      let center = (Double(i) + 0.5) * scale
      let low = max(Int(center - support + 0.5), 0), high = min(Int(center + support + 0.5), input)
      var weights = (low..<high).map { j -> Double in
        let x = (Double(j) - center + 0.5) / filterScale
        return filter == .bilinear ? max(0, 1 - abs(x)) : (x >= -0.5 && x < 0.5 ? 1 : 0)
      }
      let total = weights.reduce(0, +)
      if total > 0 { weights = weights.map { $0 / total } }
      starts.append(low)
      taps.append(weights.map(Float.init))
    }
  }

  /// The first input index and the weights of output position `i`.
  func window(_ i: Int) -> (Int, [Float]) { (starts[i], taps[i]) }
}

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
  /// The image resized to `w × h`. The vertical pass works on whole rows (it vectorises),
  /// the horizontal one pixel by pixel, so the horizontal pass runs on whichever of the two
  /// heights is smaller.
  public func resized(width w: Int, height h: Int, filter: ResizeFilter = .bilinear) -> FloatImage {
    precondition(w > 0 && h > 0, "cannot resize to \(w)x\(h)")
    let horizontal = ResampleKernel(from: width, to: w, filter: filter)
    let vertical = ResampleKernel(from: height, to: h, filter: filter)
    if h < height {
      return resampledRows(vertical, to: h).resampledColumns(horizontal, to: w)
    }
    return resampledColumns(horizontal, to: w).resampledRows(vertical, to: h)
  }

  /// Every row resampled to `w` pixels.
  private func resampledColumns(_ kernel: ResampleKernel, to w: Int) -> FloatImage {
    var out = [Float](repeating: 0, count: w * height * 3)
    values.withUnsafeBufferPointer { source in
      out.withUnsafeMutableBufferPointer { target in
        for y in 0..<height {
          kernel.apply(source.baseAddress! + y * width * 3, step: 3, into: target.baseAddress! + y * w * 3, outputStep: 3)
        }
      }
    }
    return FloatImage(width: w, height: height, values: out)
  }

  /// The rows resampled to `h` rows.
  private func resampledRows(_ kernel: ResampleKernel, to h: Int) -> FloatImage {
    var out = [Float](repeating: 0, count: width * h * 3)
    values.withUnsafeBufferPointer { source in
      out.withUnsafeMutableBufferPointer { target in
        kernel.applyToRows(source.baseAddress!, rowLength: width * 3, into: target.baseAddress!)
      }
    }
    return FloatImage(width: width, height: h, values: out)
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

/// The filter taps of one axis of a resize, flattened: output `i` reads `counts[i]` inputs
/// from `starts[i]` with weights `weights[i · width ..< i · width + counts[i]]`.
struct ResampleKernel {
  private var starts: [Int] = []
  private var counts: [Int] = []
  private var weights: [Float] = []
  private var width = 0

  init(from input: Int, to output: Int, filter: ResizeFilter) {
    let scale = Double(input) / Double(output)
    let filterScale = max(scale, 1)
    // Half-width in input pixels: the triangle's 1, the box's ½, widened when shrinking.
    let support = (filter == .bilinear ? 1 : 0.5) * filterScale
    var taps: [[Float]] = []
    for i in 0..<output {
      let center = (Double(i) + 0.5) * scale
      let low = max(Int(center - support + 0.5), 0), high = min(Int(center + support + 0.5), input)
      var row = (low..<high).map { j -> Double in
        let x = (Double(j) - center + 0.5) / filterScale
        return filter == .bilinear ? max(0, 1 - abs(x)) : (x >= -0.5 && x < 0.5 ? 1 : 0)
      }
      let total = row.reduce(0, +)
      if total > 0 { row = row.map { $0 / total } }
      starts.append(low)
      taps.append(row.map(Float.init))
    }
    width = taps.map(\.count).max() ?? 0
    counts = taps.map(\.count)
    weights = taps.flatMap { $0 + [Float](repeating: 0, count: width - $0.count) }
  }

  /// Resamples whole rows: output row `i` is the weighted sum of input rows
  /// `starts[i] ..< starts[i] + counts[i]`, each `rowLength` values long.
  func applyToRows(_ source: UnsafePointer<Float>, rowLength: Int, into target: UnsafeMutablePointer<Float>) {
    weights.withUnsafeBufferPointer { allWeights in
      for i in 0..<starts.count {
        let output = target + i * rowLength
        output.update(repeating: 0, count: rowLength)
        for k in 0..<counts[i] {
          let weight = allWeights[i * width + k], input = source + (starts[i] + k) * rowLength
          for j in 0..<rowLength { output[j] += weight * input[j] }
        }
      }
    }
  }

  /// Resamples one line of 3-channel pixels: input pixel `j` channel `c` at
  /// `source[j · step + c]`, output pixel `i` at `target[i · outputStep + c]`.
  func apply(_ source: UnsafePointer<Float>, step: Int, into target: UnsafeMutablePointer<Float>, outputStep: Int) {
    weights.withUnsafeBufferPointer { allWeights in
      for i in 0..<starts.count {
        let w = allWeights.baseAddress! + i * width
        var input = source + starts[i] * step
        var (r, g, b): (Float, Float, Float) = (0, 0, 0)
        for k in 0..<counts[i] {
          r += input[0] * w[k]
          g += input[1] * w[k]
          b += input[2] * w[k]
          input += step
        }
        let output = target + i * outputStep
        (output[0], output[1], output[2]) = (r, g, b)
      }
    }
  }
}

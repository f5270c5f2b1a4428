import Engine
import Foundation

extension FloatImage {
  /// torchvision's `ColorJitter`: brightness, contrast, saturation and hue adjustments with
  /// random factors, in a random order, values clamped to 0–255 after each.
  /// Reference: torchvision/transforms/functional_tensor.py (`adjust_*`).
  func jittered(_ jitter: Augmentation.ColorJitter, rng: inout SeededGenerator) -> FloatImage {
    var image = self
    var order = [0, 1, 2, 3]
    order.shuffle(using: &rng)
    func factor(_ x: Double) -> Float { Float.random(in: Float(max(0, 1 - x))...Float(1 + x), using: &rng) }
    for step in order {
      switch step {
      case 0 where jitter.brightness > 0: image = image.blended(with: 0, factor: factor(jitter.brightness))
      case 1 where jitter.contrast > 0: image = image.blended(with: image.meanGrey, factor: factor(jitter.contrast))
      case 2 where jitter.saturation > 0: image = image.saturated(factor(jitter.saturation))
      case 3 where jitter.hue > 0: image = image.hueShifted(Float.random(in: Float(-jitter.hue)...Float(jitter.hue), using: &rng))
      default: break
      }
    }
    return image
  }

  /// `other + factor · (value − other)`, clamped: brightness (other 0) and contrast (other
  /// the mean grey level).
  private func blended(with other: Float, factor: Float) -> FloatImage {
    FloatImage(width: width, height: height, values: values.map { min(max(other + factor * ($0 - other), 0), 255) })
  }

  /// The mean of the ITU-R 601 grey levels.
  private var meanGrey: Float {
    var total: Double = 0
    for p in 0..<(width * height) {
      total += Double(0.299 * values[3 * p] + 0.587 * values[3 * p + 1] + 0.114 * values[3 * p + 2])
    }
    return Float(total / Double(max(width * height, 1)))
  }

  /// Each pixel blended away from (factor > 1) or towards (< 1) its grey level.
  private func saturated(_ factor: Float) -> FloatImage {
    var out = values
    for p in 0..<(width * height) {
      let grey = 0.299 * values[3 * p] + 0.587 * values[3 * p + 1] + 0.114 * values[3 * p + 2]
      for ch in 0..<3 { out[3 * p + ch] = min(max(grey + factor * (values[3 * p + ch] - grey), 0), 255) }
    }
    return FloatImage(width: width, height: height, values: out)
  }

  /// Hue rotated by `shift` turns, through HSV.
  private func hueShifted(_ shift: Float) -> FloatImage {
    var out = values
    for p in 0..<(width * height) {
      let (r, g, b) = (values[3 * p] / 255, values[3 * p + 1] / 255, values[3 * p + 2] / 255)
      let maxC = max(r, g, b), minC = min(r, g, b), delta = maxC - minC
      var hue: Float = 0
      if delta > 0 {
        if maxC == r { hue = ((g - b) / delta).truncatingRemainder(dividingBy: 6) } else if maxC == g { hue = (b - r) / delta + 2 } else { hue = (r - g) / delta + 4 }
        hue /= 6
      }
      hue = (hue + shift + 2).truncatingRemainder(dividingBy: 1)
      let saturation = maxC == 0 ? 0 : delta / maxC
      let rgb = Self.hsvToRGB(hue, saturation, maxC)
      (out[3 * p], out[3 * p + 1], out[3 * p + 2]) = (rgb.0 * 255, rgb.1 * 255, rgb.2 * 255)
    }
    return FloatImage(width: width, height: height, values: out)
  }

  private static func hsvToRGB(_ h: Float, _ s: Float, _ v: Float) -> (Float, Float, Float) {
    let sector = h * 6, i = Int(sector) % 6, f = sector - Float(Int(sector))
    let (p, q, t) = (v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f)))
    switch i {
    case 0: return (v, t, p)
    case 1: return (q, v, p)
    case 2: return (p, v, t)
    case 3: return (p, q, v)
    case 4: return (t, p, v)
    default: return (v, p, q)
    }
  }
}

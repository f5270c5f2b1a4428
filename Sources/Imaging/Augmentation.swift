import Engine
import Foundation

/// Random training-time transformations, with the names of Keras' `ImageDataGenerator` and
/// torchvision's transforms. Every draw comes from the caller's seeded generator, so the
/// same seed gives the same images.
///
/// ```swift
/// var rng = SeededGenerator(seed: 7)
/// let view = Augmentation.keras.apply(image, size: 224, rng: &rng)
/// ```
public struct Augmentation: Equatable, Sendable, Codable {
  /// Mirror left–right with probability ½.
  public var horizontalFlip = false
  /// torchvision's `RandomResizedCrop`: a crop covering a random `scale` of the area with
  /// a random aspect `ratio`, resized to the output. Nil: resize the whole image.
  public var randomResizedCrop: ResizedCropRange? = nil
  /// Keras' `rotation_range`: a rotation uniform in ±degrees.
  public var rotation: Double = 0
  /// Keras' `width_shift_range` / `height_shift_range`: shifts uniform in ± the fraction.
  public var widthShift: Double = 0, heightShift: Double = 0
  /// Keras' `shear_range`: a shear angle uniform in ±degrees.
  public var shear: Double = 0
  /// Keras' `zoom_range`: scale factors uniform in `[1 − zoom, 1 + zoom]`, per axis.
  public var zoom: Double = 0
  /// torchvision's `ColorJitter`, applied in a random order.
  public var colorJitter = ColorJitter()

  /// The range of a random-resized crop.
  public struct ResizedCropRange: Equatable, Sendable, Codable {
    public var scale: ClosedRange<Double> = 0.08...1
    public var ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3)
    public init(scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3)) {
      (self.scale, self.ratio) = (scale, ratio)
    }
  }

  /// Brightness, contrast and saturation factors uniform in `[1 − x, 1 + x]`; hue shift
  /// uniform in `±hue` of a full turn (at most 0.5).
  public struct ColorJitter: Equatable, Sendable, Codable {
    public var brightness = 0.0, contrast = 0.0, saturation = 0.0, hue = 0.0
    public init(brightness: Double = 0, contrast: Double = 0, saturation: Double = 0, hue: Double = 0) {
      (self.brightness, self.contrast, self.saturation, self.hue) = (brightness, contrast, saturation, hue)
    }
    var isIdentity: Bool { brightness == 0 && contrast == 0 && saturation == 0 && hue == 0 }
  }

  public init() {}

  /// No augmentation.
  public static let none = Augmentation()

  /// Flip plus torchvision's standard random-resized crop.
  public static var light: Augmentation {
    var a = Augmentation()
    a.horizontalFlip = true
    a.randomResizedCrop = ResizedCropRange(scale: 0.5...1)
    return a
  }

  /// The Keras blog's small-data recipe: rotation 40°, shifts 0.2, shear 0.2 rad (≈ 11.5°),
  /// zoom 0.2, horizontal flip.
  public static var keras: Augmentation {
    var a = Augmentation()
    (a.rotation, a.widthShift, a.heightShift, a.shear, a.zoom, a.horizontalFlip) = (40, 0.2, 0.2, 11.5, 0.2, true)
    return a
  }

  /// `light` plus colour jitter of 0.2 (hue 0.05).
  public static var strong: Augmentation {
    var a = light
    a.rotation = 15
    a.colorJitter = ColorJitter(brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05)
    return a
  }

  /// The presets by name, for specs and flags.
  /// `standard` is another name for `light` (torchvision's standard training transform).
  public static let presets: [String: Augmentation] = [
    "none": .none, "light": .light, "standard": .light, "keras": .keras, "strong": .strong,
  ]

  /// True when the policy changes nothing (images can be cached fully preprocessed).
  public var isIdentity: Bool { self == .none }

  /// One random view of `image` as a `size × size` image (0–255 values, not normalised).
  public func apply(_ image: FloatImage, size: Int, rng: inout SeededGenerator) -> FloatImage {
    var view = randomResizedCrop.map { crop(image, range: $0, size: size, rng: &rng) } ?? image.resized(width: size, height: size)
    if rotation != 0 || widthShift != 0 || heightShift != 0 || shear != 0 || zoom != 0 {
      view = view.affine(drawTransform(size: size, rng: &rng))
    }
    if horizontalFlip && rng.nextUniform() < 0.5 { view = view.flippedHorizontally() }
    if !colorJitter.isIdentity { view = view.jittered(colorJitter, rng: &rng) }
    return view
  }

  /// torchvision's `RandomResizedCrop.get_params`: ten tries at a random area and aspect,
  /// then the central crop of the clamped aspect.
  private func crop(_ image: FloatImage, range: ResizedCropRange, size: Int, rng: inout SeededGenerator) -> FloatImage {
    let (w, h) = (Double(image.width), Double(image.height))
    for _ in 0..<10 {
      let area = w * h * Double(rng.nextUniform(Float(range.scale.lowerBound), Float(range.scale.upperBound)))
      let logRatio = Double(rng.nextUniform(Float(log(range.ratio.lowerBound)), Float(log(range.ratio.upperBound))))
      let aspect = exp(logRatio)
      let cw = Int((area * aspect).squareRoot().rounded()), ch = Int((area / aspect).squareRoot().rounded())
      if cw > 0 && ch > 0 && cw <= image.width && ch <= image.height {
        let x = Int(rng.next() % UInt64(image.width - cw + 1)), y = Int(rng.next() % UInt64(image.height - ch + 1))
        return image.cropped(x: x, y: y, width: cw, height: ch).resized(width: size, height: size)
      }
    }
    let aspect = min(max(w / h, range.ratio.lowerBound), range.ratio.upperBound)
    let cw = aspect < w / h ? Int((h * aspect).rounded()) : image.width
    let ch = aspect > w / h ? Int((w / aspect).rounded()) : image.height
    return image.centerCropped(width: max(1, cw), height: max(1, ch)).resized(width: size, height: size)
  }

  /// Keras' random affine: rotation, shift, shear and zoom about the image centre, as the
  /// matrix taking output coordinates to input coordinates.
  private func drawTransform(size: Int, rng: inout SeededGenerator) -> AffineMap {
    func uniform(_ bound: Double) -> Double { bound == 0 ? 0 : Double(rng.nextUniform(Float(-bound), Float(bound))) }
    let theta = uniform(rotation) * .pi / 180, shearAngle = uniform(shear) * .pi / 180
    let tx = uniform(heightShift) * Double(size), ty = uniform(widthShift) * Double(size)
    let zx = zoom == 0 ? 1 : 1 + uniform(zoom), zy = zoom == 0 ? 1 : 1 + uniform(zoom)
    return AffineMap(rotation: theta, shear: shearAngle, zoomX: zx, zoomY: zy, shiftX: ty, shiftY: tx, size: size)
  }
}

/// A 2-D affine map from output pixel coordinates to input coordinates, about the centre.
struct AffineMap {
  var a, b, c, d, e, f: Double  // input = [a b; d e] · output + [c; f]

  /// Keras' composition (rotation · shift · shear · zoom) on centred coordinates.
  init(rotation: Double, shear: Double, zoomX: Double, zoomY: Double, shiftX: Double, shiftY: Double, size: Int) {
    // Linear part: R(θ) · Sh · Z with R = [c −s; s c], Keras' Sh = [1 −sin φ; 0 cos φ], Z = diag(zx, zy).
    let (cr, sr, ss, cs) = (cos(rotation), sin(rotation), sin(shear), cos(shear))
    let (m11, m12) = (cr * zoomX, (-cr * ss - sr * cs) * zoomY)
    let (m21, m22) = (sr * zoomX, (-sr * ss + cr * cs) * zoomY)
    let centre = (Double(size) - 1) / 2
    a = m11; b = m12; d = m21; e = m22
    c = centre - m11 * centre - m12 * centre + shiftX
    f = centre - m21 * centre - m22 * centre + shiftY
  }
}

extension FloatImage {
  /// Samples the image through `map` bilinearly; points outside take the nearest edge
  /// pixel (Keras' default `fill_mode="nearest"`).
  func affine(_ map: AffineMap) -> FloatImage {
    var out = [Float](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { source in
      out.withUnsafeMutableBufferPointer { target in
        for y in 0..<height {
          for x in 0..<width {
            let sx = map.a * Double(x) + map.b * Double(y) + map.c, sy = map.d * Double(x) + map.e * Double(y) + map.f
            let cx = min(max(sx, 0), Double(width - 1)), cy = min(max(sy, 0), Double(height - 1))
            let x0 = Int(cx), y0 = Int(cy), x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
            let fx = Float(cx - Double(x0)), fy = Float(cy - Double(y0))
            let (p00, p01) = ((y0 * width + x0) * 3, (y0 * width + x1) * 3)
            let (p10, p11) = ((y1 * width + x0) * 3, (y1 * width + x1) * 3)
            for ch in 0..<3 {
              let top = source[p00 + ch] * (1 - fx) + source[p01 + ch] * fx
              let bottom = source[p10 + ch] * (1 - fx) + source[p11 + ch] * fx
              target[(y * width + x) * 3 + ch] = top * (1 - fy) + bottom * fy
            }
          }
        }
      }
    }
    return FloatImage(width: width, height: height, values: out)
  }

  /// Mirrored left–right.
  public func flippedHorizontally() -> FloatImage {
    var out = values
    values.withUnsafeBufferPointer { source in
      out.withUnsafeMutableBufferPointer { target in
        for y in 0..<height {
          let row = y * width * 3
          for x in 0..<width {
            let from = row + (width - 1 - x) * 3, to = row + x * 3
            (target[to], target[to + 1], target[to + 2]) = (source[from], source[from + 1], source[from + 2])
          }
        }
      }
    }
    return FloatImage(width: width, height: height, values: out)
  }
}

import Engine
import Foundation

/// mixup (Zhang et al., ICLR 2018) and CutMix (Yun et al., ICCV 2019) as timm's `Mixup`
/// applies them per batch: with probability `probability` a batch is mixed with itself
/// reversed (image i with image N−1−i), by mixup when only mixup is on, by CutMix when only
/// CutMix is on, else by either with equal chance; λ is drawn from Beta(α, α). mixup blends
/// whole inputs, `λ x + (1 − λ) x_reversed`; CutMix pastes a box of the reversed batch whose
/// side is `√(1 − λ)` of the image's, centred uniformly and clipped at the border, and sets λ
/// to the share of the image left. The loss is `λ · loss(y) + (1 − λ) · loss(y_reversed)`,
/// each term with the run's label smoothing and class weights — which equals timm's soft
/// targets `λ · smooth(y) + (1 − λ) · smooth(y_reversed)` when classes are unweighted.
public struct BatchMixing: Equatable, Sendable {
  public var mixupAlpha: Float
  public var cutmixAlpha: Float
  public var probability: Float

  public init(mixupAlpha: Float, cutmixAlpha: Float, probability: Float = 1) {
    (self.mixupAlpha, self.cutmixAlpha, self.probability) = (mixupAlpha, cutmixAlpha, probability)
  }

  public var isActive: Bool { (mixupAlpha > 0 || cutmixAlpha > 0) && probability > 0 }

  /// How one batch is mixed.
  public struct Draw: Equatable, Sendable {
    public var lambda: Float
    /// CutMix's box in the image (rows `top..<bottom`, columns `left..<right`); nil for mixup.
    public var box: (top: Int, bottom: Int, left: Int, right: Int)?

    public init(lambda: Float, box: (top: Int, bottom: Int, left: Int, right: Int)? = nil) {
      (self.lambda, self.box) = (lambda, box)
    }

    public static func == (a: Draw, b: Draw) -> Bool {
      a.lambda == b.lambda && a.box?.top == b.box?.top && a.box?.bottom == b.box?.bottom && a.box?.left == b.box?.left
        && a.box?.right == b.box?.right
    }
  }

  /// The draw for a batch of inputs shaped `shape` (`[N, H, W, C]` images, or `[N, D]`
  /// features, which only mixup applies to), or nil when the batch stays unmixed.
  public func draw(shape: [Int], rng: inout SeededGenerator) -> Draw? {
    guard isActive, rng.nextUniform() < probability else { return nil }
    let spatial = shape.count == 4
    let useCutmix = cutmixAlpha > 0 && spatial && (mixupAlpha <= 0 || rng.nextUniform() < 0.5)
    guard useCutmix || mixupAlpha > 0 else { return nil }
    let lambda = Self.beta(useCutmix ? cutmixAlpha : mixupAlpha, &rng)
    guard useCutmix else { return Draw(lambda: lambda) }
    let (height, width) = (shape[1], shape[2])
    let ratio = (1 - lambda).squareRoot()
    let (cutHeight, cutWidth) = (Int(Float(height) * ratio), Int(Float(width) * ratio))
    let (centreY, centreX) = (Int(rng.next() % UInt64(height)), Int(rng.next() % UInt64(width)))
    return Self.cutmix(centreY: centreY, centreX: centreX, cutHeight: cutHeight, cutWidth: cutWidth, height: height, width: width)
  }

  /// CutMix's box around a centre, clipped to the image, with λ the share of the image left
  /// (timm's `rand_bbox` and `correct_lam`).
  public static func cutmix(centreY: Int, centreX: Int, cutHeight: Int, cutWidth: Int, height: Int, width: Int) -> Draw {
    let clip = { (value: Int, limit: Int) in min(max(value, 0), limit) }
    let (top, bottom) = (clip(centreY - cutHeight / 2, height), clip(centreY + cutHeight / 2, height))
    let (left, right) = (clip(centreX - cutWidth / 2, width), clip(centreX + cutWidth / 2, width))
    let lambda = 1 - Float((bottom - top) * (right - left)) / Float(height * width)
    return Draw(lambda: lambda, box: (top, bottom, left, right))
  }

  /// The inputs mixed as `draw` says, each with its partner in the reversed batch.
  public static func apply(_ draw: Draw, to inputs: Tensor) -> Tensor {
    let count = inputs.shape[0], size = inputs.count / max(count, 1)
    var mixed = Tensor(uninitializedShape: inputs.shape)
    inputs.withUnsafeBufferPointer { source in
      mixed.withUnsafeMutableBufferPointer { target in
        let (x, y) = (source.baseAddress!, target.baseAddress!)
        guard let box = draw.box else {
          let (a, b) = (draw.lambda, 1 - draw.lambda)
          for i in 0..<count {
            let (own, partner, out) = (x + i * size, x + (count - 1 - i) * size, y + i * size)
            for j in 0..<size { out[j] = a * own[j] + b * partner[j] }
          }
          return
        }
        y.update(from: x, count: inputs.count)
        let (width, channels) = (inputs.shape[2], inputs.shape[3])
        let run = (box.right - box.left) * channels
        for i in 0..<count where run > 0 {
          for row in box.top..<box.bottom {
            let offset = (row * width + box.left) * channels
            (y + i * size + offset).update(from: x + (count - 1 - i) * size + offset, count: run)
          }
        }
      }
    }
    return mixed
  }

  /// A draw from Beta(α, α): `g₁ / (g₁ + g₂)` for two Gamma(α) draws.
  static func beta(_ alpha: Float, _ rng: inout SeededGenerator) -> Float {
    let (a, b) = (gamma(alpha, &rng), gamma(alpha, &rng))
    return a + b > 0 ? a / (a + b) : 0.5
  }

  /// A draw from Gamma(α, 1) (Marsaglia and Tsang, 2000; for α < 1, Gamma(α + 1) · U^(1/α)).
  static func gamma(_ alpha: Float, _ rng: inout SeededGenerator) -> Float {
    if alpha < 1 { return gamma(alpha + 1, &rng) * pow(max(rng.nextUniform(), .leastNonzeroMagnitude), 1 / alpha) }
    let d = alpha - 1.0 / 3, c = 1 / (9 * d).squareRoot()
    while true {
      let z = rng.nextNormal()
      let v = pow(1 + c * z, 3)
      guard v > 0 else { continue }
      let u = max(rng.nextUniform(), .leastNonzeroMagnitude)
      if log(u) < 0.5 * z * z + d - d * v + d * log(v) { return d * v }
    }
  }
}

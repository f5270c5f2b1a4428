import Foundation

/// A seeded pseudo-random generator: SplitMix64 (Steele, Lea & Flood, 2014).
///
/// The same seed gives the same sequence on every run and machine, so weights, dropout
/// masks and data order are reproducible bit for bit. Reference:
/// https://prng.di.unimi.it/splitmix64.c
///
/// ```swift
/// var rng = SeededGenerator(seed: 42)
/// let u = rng.nextUniform()      // [0, 1)
/// let z = rng.nextNormal()       // N(0, 1)
/// ```
public struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64

  /// Creates a generator; equal seeds give equal sequences.
  public init(seed: UInt64) {
    state = seed
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform Float in `[0, 1)` with 24 bits of precision.
  public mutating func nextUniform() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  /// A uniform Float in `[low, high)`.
  public mutating func nextUniform(_ low: Float, _ high: Float) -> Float {
    low + (high - low) * nextUniform()
  }

  /// A standard normal sample (Box–Muller transform, computed in Double).
  public mutating func nextNormal() -> Float {
    let u1 = Double(next() >> 11 | 1) * 0x1.0p-53  // (0, 1): log never sees 0
    let u2 = Double(next() >> 11) * 0x1.0p-53
    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
  }

  /// A generator for an independent stream derived from this seed and a label, e.g. one
  /// per layer, so adding a layer does not shift every other layer's numbers.
  public func derived(_ label: String) -> SeededGenerator {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a over the label
    for byte in label.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return SeededGenerator(seed: state ^ hash)
  }
}

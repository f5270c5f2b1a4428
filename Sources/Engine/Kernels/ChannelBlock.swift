/// Groups of channels held in vector registers, for the kernels whose inner loop runs
/// over the contiguous channels of one NHWC pixel (depthwise convolution).
///
/// A kernel writes its loop body once as a generic function over `ChannelBlock` and runs
/// it through ``forEachChannelBlock(_:_:)``: 32 channels at a time in four registers, so
/// four independent multiply-add chains hide the add latency, then the rest 8 (or fewer)
/// at a time.
protocol ChannelBlock {
  /// Channels per block.
  static var lanes: Int { get }
  /// All lanes zero.
  static var zero: Self { get }
  /// Loads `width ≤ lanes` floats (the rest zero).
  static func load(_ p: UnsafePointer<Float>, _ width: Int) -> Self
  /// Stores the first `width ≤ lanes` values.
  func store(_ p: UnsafeMutablePointer<Float>, _ width: Int)
  /// `self += x · w`, lane by lane.
  mutating func add(_ x: Self, times w: Self)
  /// `self += other`, lane by lane.
  mutating func add(_ other: Self)
}

/// Runs `body(Block.self, c0, width)` over all `channels`: 32-channel blocks first, then
/// 8-channel blocks, the last one possibly partial.
@inline(__always)
func forEachChannelBlock(_ channels: Int, _ body: ChannelBlockBody) {
  var c0 = 0
  while c0 + Channels32.lanes <= channels {
    body.run(Channels32.self, c0, Channels32.lanes)
    c0 += Channels32.lanes
  }
  while c0 < channels {
    body.run(SIMD8<Float>.self, c0, min(8, channels - c0))
    c0 += 8
  }
}

/// A loop body generic over the block type (Swift closures cannot be generic).
protocol ChannelBlockBody {
  func run<Block: ChannelBlock>(_ type: Block.Type, _ c0: Int, _ width: Int)
}

extension SIMD8: ChannelBlock where Scalar == Float {
  static var lanes: Int { 8 }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>, _ width: Int) -> SIMD8<Float> {
    if width == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    var v = SIMD8<Float>.zero
    for i in 0..<width { v[i] = p[i] }
    return v
  }

  @inline(__always)
  func store(_ p: UnsafeMutablePointer<Float>, _ width: Int) {
    if width == 8 {
      UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    } else {
      for i in 0..<width { p[i] = self[i] }
    }
  }

  @inline(__always)
  mutating func add(_ x: SIMD8<Float>, times w: SIMD8<Float>) { self += x * w }

  @inline(__always)
  mutating func add(_ other: SIMD8<Float>) { self += other }
}

/// 32 channels in four 8-lane registers; always full (`width` is ignored).
struct Channels32: ChannelBlock {
  var a = SIMD8<Float>.zero, b = SIMD8<Float>.zero, c = SIMD8<Float>.zero, d = SIMD8<Float>.zero

  static var lanes: Int { 32 }
  static var zero: Channels32 { Channels32() }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>, _ width: Int) -> Channels32 {
    Channels32(a: .load(p, 8), b: .load(p + 8, 8), c: .load(p + 16, 8), d: .load(p + 24, 8))
  }

  @inline(__always)
  func store(_ p: UnsafeMutablePointer<Float>, _ width: Int) {
    a.store(p, 8)
    b.store(p + 8, 8)
    c.store(p + 16, 8)
    d.store(p + 24, 8)
  }

  @inline(__always)
  mutating func add(_ x: Channels32, times w: Channels32) {
    a += x.a * w.a
    b += x.b * w.b
    c += x.c * w.c
    d += x.d * w.d
  }

  @inline(__always)
  mutating func add(_ other: Channels32) {
    a += other.a
    b += other.b
    c += other.c
    d += other.d
  }
}

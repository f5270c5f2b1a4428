/// A dense, contiguous, row-major array of Float32 values with a shape.
///
/// Image tensors use **NHWC** throughout Podium: `[N, H, W, C]`, channels innermost. With
/// that layout a 1×1 convolution is one GEMM over every pixel of the batch, and
/// depthwise convolution, batch norm and bias adds vectorise over the contiguous channels.
/// Convolution weights are `[KH, KW, IC, OC]`, depthwise weights `[KH, KW, C]`, linear
/// weights `[OUT, IN]` (PyTorch's layout). Checkpoints in other layouts are converted once,
/// at load.
///
/// `Tensor` has value semantics: copies share storage until one of them is mutated.
///
/// ```swift
/// var x = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
/// x[1, 2] = 0
/// let y = x.reshaped([3, 2])
/// ```
public struct Tensor {
  /// The extent of each dimension, outermost first.
  public private(set) var shape: [Int]
  var storage: TensorStorage

  /// Number of values (the product of the shape).
  public var count: Int { storage.count }
  /// Number of dimensions.
  public var rank: Int { shape.count }

  /// A tensor with every value set to `value`.
  public init(shape: [Int], repeating value: Float = 0) {
    self.shape = shape
    storage = TensorStorage(count: Tensor.elementCount(shape), repeating: value)
  }

  /// A tensor holding `values` in row-major order.
  ///
  /// - Precondition: `values.count` equals the product of `shape`.
  public init(shape: [Int], values: [Float]) {
    let count = Tensor.elementCount(shape)
    precondition(values.count == count, "\(values.count) values do not fill shape \(shape)")
    self.shape = shape
    storage = TensorStorage(uninitializedCount: count)
    values.withUnsafeBufferPointer { storage.baseAddress.initialize(from: $0.baseAddress!, count: count) }
  }

  /// A tensor whose values are uninitialised; the caller writes every value before reading.
  public init(uninitializedShape shape: [Int]) {
    self.shape = shape
    storage = TensorStorage(uninitializedCount: Tensor.elementCount(shape))
  }

  /// The product of the extents, checked for negative extents.
  public static func elementCount(_ shape: [Int]) -> Int {
    shape.reduce(1) { product, extent in
      precondition(extent >= 0, "negative extent in shape \(shape)")
      return product * extent
    }
  }

  /// The values in row-major order.
  public var scalars: [Float] {
    Array(UnsafeBufferPointer(start: storage.baseAddress, count: count))
  }

  /// The same values viewed with another shape of equal element count (no copy).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    precondition(
      Tensor.elementCount(newShape) == count, "cannot reshape \(shape) to \(newShape)")
    var result = self
    result.shape = newShape
    return result
  }

  /// The rows `indices` of a matrix (`[N, D]` → `[indices.count, D]`), copied row by row.
  public func rows(_ indices: [Int]) -> Tensor {
    precondition(shape.count == 2, "rows(_:) needs a matrix, got \(shape)")
    let width = shape[1]
    var result = Tensor(uninitializedShape: [indices.count, width])
    withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        for (row, index) in indices.enumerated() {
          precondition(index >= 0 && index < shape[0], "row \(index) out of \(shape[0])")
          (target.baseAddress! + row * width).update(from: source.baseAddress! + index * width, count: width)
        }
      }
    }
    return result
  }

  /// Calls `body` with a read-only pointer to the values. The pointer must not escape.
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: storage.baseAddress, count: storage.count))
  }

  /// Calls `body` with a mutable pointer to the values, copying shared storage first.
  /// The pointer must not escape.
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    return try body(UnsafeMutableBufferPointer(start: storage.baseAddress, count: storage.count))
  }

  /// Reads or writes one value by its multi-dimensional index (slow; for tests and setup).
  public subscript(_ index: Int...) -> Float {
    get { storage.baseAddress[flatIndex(index)] }
    set {
      let offset = flatIndex(index)
      withUnsafeMutableBufferPointer { $0[offset] = newValue }
    }
  }

  private func flatIndex(_ index: [Int]) -> Int {
    precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
    var offset = 0
    for (position, extent) in zip(index, shape) {
      precondition(position >= 0 && position < extent, "index \(index) out of shape \(shape)")
      offset = offset * extent + position
    }
    return offset
  }
}

extension Tensor: CustomStringConvertible {
  /// The shape and the first few values, e.g. `Tensor[2, 3](1.0, 2.0, 3.0, …)`.
  public var description: String {
    let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
    return "Tensor\(shape)(\(shown)\(count > 8 ? ", …" : ""))"
  }
}

// MARK: - Raw access for kernels inside Engine

extension Tensor {
  /// The first value, for passing to kernels. Valid while this tensor (or a copy sharing
  /// its storage) is alive; callers keep the tensor in a variable used after the kernel.
  var pointer: UnsafePointer<Float> { UnsafePointer(storage.baseAddress) }

  /// The first value for writing, after copying shared storage. Same lifetime rule as
  /// ``pointer``.
  mutating func mutablePointer() -> UnsafeMutablePointer<Float> {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    return storage.baseAddress
  }
}

extension Tensor: Equatable {
  /// Equal shapes and bit-for-bit equal values.
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
  }
}

/// Turns a storage's raw little-endian bytes and a tensor's strided view of it into a
/// contiguous Float32 ``Tensor``.
///
/// Offsets and strides are honoured (checkpoints converted from TensorFlow store their
/// weights transposed); half, bfloat16, double and integer storages are converted to
/// Float32.
enum StorageDecoding {
  /// Checks that `block` holds every element of `tensor`'s storage.
  static func validate(_ tensor: TensorReference, block: UnsafeRawBufferPointer) throws {
    let storage = tensor.storage
    let (elements, overflow) = storage.elementOffset.addingReportingOverflow(storage.count)
    let (needed, overflow2) = elements.multipliedReportingOverflow(by: storage.dtype.size)
    guard !overflow, !overflow2, block.count >= needed else {
      throw FormatError("storage \(storage.key) holds \(block.count) bytes, needs \(storage.count) elements of \(storage.dtype.size)")
    }
  }

  /// Materialises `tensor` from the bytes of its storage's block.
  ///
  /// - Throws: ``FormatError`` when the block is shorter than the storage claims.
  static func materialize(_ tensor: TensorReference, block: UnsafeRawBufferPointer) throws -> Tensor {
    try validate(tensor, block: block)
    var result = Tensor(uninitializedShape: tensor.shape)
    decode(tensor, block: block, into: result.mutablePointer())
    return result
  }

  /// Writes the elements of the (validated) view `tensor` to `output` in row-major order of
  /// its shape. A caller may pass a view with reordered shape and strides to get another
  /// layout directly (a PyTorch convolution weight read as `[KH, KW, IC, OC]`).
  static func decode(_ tensor: TensorReference, block: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<Float>) {
    let storage = tensor.storage
    let base = storage.elementOffset + tensor.offset
    let count = Tensor.elementCount(tensor.shape)
    if storage.dtype == .float32 && isContiguous(tensor) {  // the common case: one copy
      if count > 0 { UnsafeMutableRawPointer(output).copyMemory(from: block.baseAddress! + base * 4, byteCount: count * 4) }
      return
    }
    var written = 0
    forEachRun(shape: tensor.shape, strides: tensor.strides) { start, runCount, step in
      for i in 0..<runCount {
        output[written + i] = element(block, dtype: storage.dtype, index: base + start + i * step)
      }
      written += runCount
    }
  }

  private static func isContiguous(_ tensor: TensorReference) -> Bool {
    var expected = 1
    for (extent, stride) in zip(tensor.shape, tensor.strides).reversed() where extent > 1 {
      if stride != expected { return false }
      expected *= extent
    }
    return true
  }

  /// Calls `body(start, count, step)` for each innermost run of a strided view, in
  /// row-major order of the view.
  private static func forEachRun(shape: [Int], strides: [Int], _ body: (Int, Int, Int) -> Void) {
    guard !shape.contains(0) else { return }
    guard let inner = shape.last, let innerStride = strides.last else {
      body(0, 1, 1)  // a scalar
      return
    }
    let outer = Array(shape.dropLast())
    var index = [Int](repeating: 0, count: outer.count)
    while true {
      var start = 0
      for (position, stride) in zip(index, strides) { start += position * stride }
      body(start, inner, innerStride)
      var dimension = outer.count - 1
      while dimension >= 0 {
        index[dimension] += 1
        if index[dimension] < outer[dimension] { break }
        index[dimension] = 0
        dimension -= 1
      }
      if dimension < 0 { return }
    }
  }

  @inline(__always)
  private static func element(_ block: UnsafeRawBufferPointer, dtype: StorageDType, index: Int) -> Float {
    let offset = index * dtype.size
    switch dtype {
    case .float32: return Float(bitPattern: block.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
    case .float64: return Float(Double(bitPattern: block.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian))
    case .float16: return halfToFloat(block.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
    case .bfloat16: return Float(bitPattern: UInt32(block.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian) << 16)
    case .int64: return Float(Int64(littleEndian: block.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
    case .int32: return Float(Int32(littleEndian: block.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
    case .int16: return Float(Int16(littleEndian: block.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
    case .int8: return Float(block.load(fromByteOffset: offset, as: Int8.self))
    case .uint8, .bool: return Float(block[offset])
    }
  }

  /// IEEE 754 binary16 → binary32, including subnormals, infinities and NaN.
  static func halfToFloat(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x3FF)
    switch exponent {
    case 0:
      let magnitude = Float(mantissa) * 0x1p-24  // subnormal (or zero)
      return sign != 0 ? -magnitude : magnitude
    case 31:
      return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
    default:
      return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | mantissa << 13)
    }
  }
}

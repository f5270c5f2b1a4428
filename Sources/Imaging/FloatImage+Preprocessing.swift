import Engine

extension FloatImage {
  /// The evaluation input a backbone expects: its crop and resize, then its normalisation,
  /// as an NHWC tensor `[1, inputSize, inputSize, 3]`.
  public func preprocessed(for preprocessing: Preprocessing) -> Tensor {
    let size = preprocessing.inputSize
    let normalized = evaluationCrop(for: preprocessing).normalized(mean: preprocessing.mean, std: preprocessing.std)
    return Tensor(shape: [1, size, size, 3], values: normalized.values)
  }

  /// The backbone's evaluation crop and resize, `inputSize × inputSize`, not normalised, in
  /// the preprocessing's view (another square, mirrored).
  public func evaluationCrop(for preprocessing: Preprocessing) -> FloatImage {
    let crop = regionCrop(for: preprocessing)
    return preprocessing.view.flipped ? crop.flippedHorizontally() : crop
  }

  private func regionCrop(for preprocessing: Preprocessing) -> FloatImage {
    let size = preprocessing.inputSize
    if preprocessing.view.region != .standard {
      let resized = resized(shorterSide: size * 8 / 7)
      let (right, bottom) = (resized.width - size, resized.height - size)
      switch preprocessing.view.region {
      case .topLeft: return resized.cropped(x: 0, y: 0, width: size, height: size)
      case .topRight: return resized.cropped(x: right, y: 0, width: size, height: size)
      case .bottomLeft: return resized.cropped(x: 0, y: bottom, width: size, height: size)
      case .bottomRight: return resized.cropped(x: right, y: bottom, width: size, height: size)
      case .center, .standard: return resized.centerCropped(width: size, height: size)
      }
    }
    switch preprocessing.crop {
    case .resizeThenCenterCrop(let resize):
      return resized(shorterSide: resize).centerCropped(width: size, height: size)
    case .centralFractionThenResize(let fraction):
      // TensorFlow's central crop: side ⌊fraction · min(h, w)⌋, offsets ((h − side + 1) / 2).
      let side = Int(fraction * Double(min(width, height)))
      return cropped(x: (width - side + 1) / 2, y: (height - side + 1) / 2, width: side, height: side)
        .resized(width: size, height: size)
    }
  }

  /// The values rounded to 8-bit pixels (clamped to 0–255, ties to even).
  public func rounded() -> Image {
    let count = values.count
    let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      values.withUnsafeBufferPointer { source in
        // Adding 1.5 · 2²³ leaves the rounded integer in the low mantissa bits: a
        // branch-free conversion the compiler vectorises (UInt8(Float) checks its range).
        for i in 0..<count {
          let shifted = min(max(source[i], 0), 255) + 12_582_912
          buffer[i] = UInt8(truncatingIfNeeded: shifted.bitPattern)
        }
      }
      initialized = count
    }
    return Image(width: width, height: height, pixels: pixels)
  }
}

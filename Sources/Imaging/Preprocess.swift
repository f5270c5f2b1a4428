import Backbones
import Engine

extension FloatImage {
  /// The evaluation input a backbone expects: its crop and resize, then its normalisation,
  /// as an NHWC tensor `[1, inputSize, inputSize, 3]`.
  public func preprocessed(for preprocessing: Preprocessing) -> Tensor {
    let size = preprocessing.inputSize
    let square: FloatImage
    switch preprocessing.crop {
    case .resizeThenCenterCrop(let resize):
      square = resized(shorterSide: resize).centerCropped(width: size, height: size)
    case .centralFractionThenResize(let fraction):
      // TensorFlow's central crop: side ⌊fraction · min(h, w)⌋, offsets ((h − side + 1) / 2).
      let side = Int(fraction * Double(min(width, height)))
      square = cropped(x: (width - side + 1) / 2, y: (height - side + 1) / 2, width: side, height: side)
        .resized(width: size, height: size)
    }
    let normalized = square.normalized(mean: preprocessing.mean, std: preprocessing.std)
    return Tensor(shape: [1, size, size, 3], values: normalized.values)
  }
}

/// How a backbone expects its input images: size, resize-and-crop, and normalisation.
///
/// Mean and standard deviation are on the 0–255 scale of 8-bit pixels:
/// `x = (pixel − mean) / std`, per RGB channel.
public struct Preprocessing: Equatable, Sendable {
  /// How the evaluation crop is taken from an image of any size.
  public enum Crop: Equatable, Sendable {
    /// torchvision: resize the shorter side to `resize`, then take the central
    /// `inputSize × inputSize` square (resize 256, crop 224).
    case resizeThenCenterCrop(resize: Int)
    /// TensorFlow EfficientNet: the central square of side `⌊fraction · min(h, w)⌋`
    /// (fraction 224/256), resized to `inputSize × inputSize` bilinearly with antialiasing.
    case centralFractionThenResize(fraction: Double)
  }

  /// Which view of an image the evaluation takes (test-time augmentation): the crop above,
  /// or one of torchvision's `FiveCrop` squares; mirrored left to right or not.
  public struct View: Equatable, Sendable, CustomStringConvertible {
    public enum Region: String, CaseIterable, Sendable { case standard, center, topLeft, topRight, bottomLeft, bottomRight }
    /// `standard`: the backbone's own evaluation crop; the others: a square of the input
    /// side from the image resized so its shorter side is `inputSize · 8/7`.
    public var region: Region
    public var flipped: Bool

    public init(region: Region = .standard, flipped: Bool = false) {
      (self.region, self.flipped) = (region, flipped)
    }

    public var description: String { "\(region.rawValue)\(flipped ? "-flipped" : "")" }
  }

  /// Side of the square network input, in pixels.
  public var inputSize: Int
  public var crop: Crop
  /// The evaluation view (the standard crop unless test-time augmentation asks for another).
  public var view = View()
  /// Per-channel mean of 0–255 pixels (RGB).
  public var mean: [Float]
  /// Per-channel standard deviation of 0–255 pixels (RGB).
  public var std: [Float]

  public init(inputSize: Int, crop: Crop, mean: [Float], std: [Float]) {
    (self.inputSize, self.crop, self.mean, self.std) = (inputSize, crop, mean, std)
  }

  /// torchvision's ImageNet preprocessing: resize 256, centre crop 224, ImageNet mean/std.
  public static let torchvisionImageNet = Preprocessing(
    inputSize: 224, crop: .resizeThenCenterCrop(resize: 256),
    mean: [0.485 * 255, 0.456 * 255, 0.406 * 255], std: [0.229 * 255, 0.224 * 255, 0.225 * 255])

  /// EfficientNet-Lite's at input side `inputSize` (224 for Lite0, 240 for Lite1, 260 for
  /// Lite2): TF's central crop of `inputSize / (inputSize + 32)` of the shorter side (the
  /// `CROP_PADDING` of TF's EfficientNet preprocessing), resized to the input side, mean 127
  /// and std 128 on every channel.
  public static func efficientNetLite(inputSize: Int = 224) -> Preprocessing {
    Preprocessing(inputSize: inputSize, crop: .centralFractionThenResize(fraction: Double(inputSize) / Double(inputSize + 32)),
                  mean: [127, 127, 127], std: [128, 128, 128])
  }

  /// The seed benchmark's small CNN: 150×150 images rescaled to `[0, 1]` (Keras' `rescale=1/255`).
  public static func smallCNN(inputSize: Int) -> Preprocessing {
    Preprocessing(inputSize: inputSize, crop: .resizeThenCenterCrop(resize: inputSize),
                  mean: [0, 0, 0], std: [255, 255, 255])
  }
}

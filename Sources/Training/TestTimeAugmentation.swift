import Imaging

/// Test-time augmentation: each evaluated image is predicted in several views and the
/// probabilities averaged — `flip` (the image and its mirror) or `flip5crop` (torchvision's
/// `TenCrop`: the four corner squares and the centre of the image resized to 8/7 of the
/// input side, each also mirrored; fastai's `tta` and Keras practice).
public enum TestTimeAugmentation: String, CaseIterable, Codable, Sendable {
  case none, flip, flip5crop

  /// The preprocessings of the views, from the run's own.
  public func views(of preprocessing: Preprocessing) -> [Preprocessing] {
    let view = { (region: Preprocessing.View.Region, flipped: Bool) -> Preprocessing in
      var copy = preprocessing
      copy.view = Preprocessing.View(region: region, flipped: flipped)
      return copy
    }
    switch self {
    case .none: return [preprocessing]
    case .flip: return [preprocessing, view(.standard, true)]
    case .flip5crop:
      return [Preprocessing.View.Region.center, .topLeft, .topRight, .bottomLeft, .bottomRight].flatMap { [view($0, false), view($0, true)] }
    }
  }
}

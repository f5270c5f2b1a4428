/// Which part of a dataset an image belongs to: the split's three labelled parts, or the
/// competition's unlabelled test images. The raw values are what the store writes.
public enum Subset: String, CaseIterable, Codable, Sendable {
  case train, validation, test, unlabelled

  /// The labelled parts a split assigns, in order.
  public static let labelled: [Subset] = [.train, .validation, .test]
}

/// How a user names a split: one of the dataset's presets, or explicit fractions. The
/// sweep spec's `split:` and `podium train --split` both resolve through it.
public enum SplitChoice: Equatable, Sendable {
  case preset(String)
  case fractions(SplitSpec)

  /// `--split`'s text: a preset name, or `train,validation,test` fractions.
  public init(parsing text: String) {
    let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    if parts.count == 3, let train = parts[0], let validation = parts[1], let test = parts[2] {
      self = .fractions(.fractions(train: train, validation: validation, test: test))
    } else {
      self = .preset(text)
    }
  }

  /// The split spec for `dataset`.
  ///
  /// - Throws: ``DatasetError`` naming the dataset when the preset does not exist.
  public func resolve(in dataset: Dataset) throws -> SplitSpec {
    switch self {
    case .fractions(let spec):
      try spec.validate()
      return spec
    case .preset(let name):
      guard let preset = dataset.presets[name] else {
        throw DatasetError(path: dataset.root.path, reason: "split \(name) is neither a preset of \(dataset.adapter) "
          + "(\(dataset.presets.keys.sorted().joined(separator: ", "))) nor train,validation,test fractions")
      }
      return preset
    }
  }
}

/// No weights file was found for a backbone: one line saying how to get one and where
/// Podium looked first.
public struct MissingWeightsError: Error, CustomStringConvertible, Equatable {
  public var backbone: BackboneName
  /// Podium's own weight cache, where `podium weights fetch` and `import` put files.
  public var cacheFolder: String

  public init(backbone: BackboneName, locator: WeightLocator) {
    (self.backbone, self.cacheFolder) = (backbone, locator.cacheFolder.path)
  }

  public var description: String {
    "no pretrained weights for \(backbone.rawValue): run `podium weights fetch \(backbone.rawValue)`, "
      + "or pass --weights FILE, or put \(PretrainedWeights.fileNames(backbone).first ?? "the file") in \(cacheFolder)"
  }
}

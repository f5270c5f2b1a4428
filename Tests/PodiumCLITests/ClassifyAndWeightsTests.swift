import Backbones
import Engine
import Foundation
import XCTest

/// `podium classify` and `podium weights`, run as a user runs them.
final class ClassifyAndWeightsTests: XCTestCase {
  private let cli = PodiumRunner()
  private var fixtures: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("BackbonesTests/Fixtures")
  }

  /// The bar: a tabby cat photo comes out as a cat class with PyTorch's probabilities (±0.02).
  func testClassify_catAndCoffeePhotos_matchPyTorchTop5() throws {
    for (backbone, fixture) in [("efficientnet_lite0", "lite0"), ("efficientnet_lite1", "lite1"), ("efficientnet_lite2", "lite2")] {
      try assertClassifiesPhotosAsPyTorch(backbone, reference: "\(fixture)_photos.json")
    }
  }

  /// `podium classify --backbone NAME` on the two photos: PyTorch's top five classes, each
  /// probability within 0.02, and a cat class first for the cat.
  private func assertClassifiesPhotosAsPyTorch(_ backbone: String, reference file: String) throws {
    let photos = ["chelsea.png", "coffee.jpg"].map { fixtures.appendingPathComponent("photos/\($0)").path }
    let result = try cli.run(["classify", "--backbone", backbone, "--json"] + photos)
    XCTAssertEqual(result.status, 0, result.stderr)
    let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent(file))) as? [String: [[String: Any]]])
    let lines = result.stdout.split(separator: "\n")
    XCTAssertEqual(lines.count, 2)
    for (line, photo) in zip(lines, ["chelsea.png", "coffee.jpg"]) {
      let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let top = try XCTUnwrap(object["top"] as? [[String: Any]])
      let expected = try XCTUnwrap(reference[photo])
      XCTAssertEqual(top.map { $0["index"] as? Int }, expected.map { $0["index"] as? Int }, "\(backbone) \(photo)")
      for (got, want) in zip(top, expected) {
        XCTAssertEqual(try XCTUnwrap(got["prob"] as? Double), try XCTUnwrap(want["prob"] as? Double), accuracy: 0.02, "\(backbone) \(photo)")
      }
    }
    let catTop1 = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])?["top"] as? [[String: Any]])[0]
    XCTAssertTrue((281...285).contains(try XCTUnwrap(catTop1["index"] as? Int)), "\(catTop1)")
  }

  func testClassify_badImagesAndHostileWeights_failWithOneLineEach() throws {
    let folder = try temporaryFolder()
    let gif = folder.appendingPathComponent("cat.jpg")
    try Data("GIF89a....".utf8).write(to: gif)
    let result = try cli.run(["classify", "--backbone", "efficientnet_lite0", gif.path])
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stderr.split(separator: "\n").map(String.init), ["cannot decode \(gif.path): GIF images are not supported (JPEG and PNG are)"])
    let evil = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("EngineTests/Fixtures/checkpoints/evil.pth")
    let hostile = try cli.run(["classify", "--backbone", "efficientnet_lite0", "--weights", evil.path, gif.path])
    XCTAssertEqual(hostile.status, 1)
    XCTAssertEqual(hostile.stderr.split(separator: "\n").count, 1, hostile.stderr)
    XCTAssertTrue(hostile.stderr.contains("posix.system"), hostile.stderr)
  }

  /// `weights fetch --url` from a local HTTP server: the SHA-256 prefix of the file name is
  /// checked, and only a matching file lands in the cache.
  func testWeightsFetch_fromLocalServer_checksTheHash() throws {
    let served = try temporaryFolder(), home = try temporaryFolder()
    let source = fixtures.appendingPathComponent("resnet18.pth")
    let digest = try sha256(source)
    let good = "resnet18-\(digest.prefix(8)).pth", bad = "resnet18-00000000.pth"
    for name in [good, bad] { try FileManager.default.copyItem(at: source, to: served.appendingPathComponent(name)) }
    let server = try LocalHTTPServer(serving: served)
    defer { server.stop() }
    let fetched = try cli.run(["weights", "fetch", "resnet18", "--url", "\(server.baseURL)/\(good)"], home: home)
    XCTAssertEqual(fetched.status, 0, fetched.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: home.appendingPathComponent(".cache/podium/weights/\(good)").path))
    let rejected = try cli.run(["weights", "fetch", "resnet18", "--url", "\(server.baseURL)/\(bad)"], home: home)
    XCTAssertEqual(rejected.status, 1)
    XCTAssertTrue(rejected.stderr.contains("does not start with 00000000"), rejected.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent(".cache/podium/weights/\(bad)").path))
    let listed = try cli.run(["weights", "list", "--json"], home: home)
    let resnet = try XCTUnwrap(listed.stdout.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }.first { $0["backbone"] as? String == "resnet18" })
    XCTAssertEqual(resnet["found"] as? Bool, true)
    XCTAssertEqual(resnet["sha256"] as? String, digest)
  }

  func testWeightsImport_checksNamesAndShapesBeforeCopying() throws {
    let home = try temporaryFolder()
    let twin = fixtures.appendingPathComponent("resnet18.pth")  // reduced widths: does not fit resnet18
    let refused = try cli.run(["weights", "import", twin.path, "--backbone", "resnet18"], home: home)
    XCTAssertEqual(refused.status, 1)
    XCTAssertTrue(refused.stderr.contains("does not fit resnet18: conv1.weight: expected [64, 3, 7, 7], got [4, 3, 7, 7]"), refused.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent(".cache/podium/weights").path + "/resnet18-imported.pth"))
  }

  private func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("podium-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
  }

  private func sha256(_ url: URL) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [url.path]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    process.waitUntilExit()
    return String(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64))
  }
}

/// Python's http.server on 127.0.0.1 and a free port, serving one folder.
final class LocalHTTPServer {
  private let process = Process()
  let baseURL: String

  init(serving folder: URL) throws {
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder.path]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    var text = ""
    while !text.contains("\n") {
      let chunk = out.fileHandleForReading.availableData
      guard !chunk.isEmpty else { break }
      text += String(decoding: chunk, as: UTF8.self)
    }
    guard let range = text.range(of: #"port (\d+)"#, options: .regularExpression) else {
      process.terminate()
      throw NSError(domain: "LocalHTTPServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "no port in \(text)"])
    }
    baseURL = "http://127.0.0.1:\(text[range].dropFirst(5))"
  }

  func stop() {
    process.terminate()
    process.waitUntilExit()
  }
}

/// The memory cost of loading weights: at most twice the checkpoint's size in peak RSS.
final class WeightsMemoryTests: XCTestCase {
  func testImportingResNet50_peaksBelowTwiceTheCheckpointSize() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-rss-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("resnet50.safetensors")
    try Backbone(.resnet50).network.save(to: file)  // full size, seeded random weights
    let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
    XCTAssertGreaterThan(size, 100_000_000)
    // Python reports the child's peak RSS (getrusage of children), unpolluted by other tests.
    let script = """
      import resource, subprocess, sys
      result = subprocess.run(sys.argv[1:], capture_output=True)
      print(result.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    var environment = PodiumRunner.commandEnvironment
    environment["HOME"] = folder.path
    process.environment = environment
    process.arguments = ["python3", "-c", script, PodiumRunner().executable.path, "weights", "import", file.path, "--backbone", "resnet50"]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    process.waitUntilExit()
    let fields = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
    XCTAssertEqual(fields.first, "0")
    let peakBytes = try XCTUnwrap(Int(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")) * 1024
    XCTAssertLessThanOrEqual(peakBytes, 2 * size, "peak RSS \(peakBytes / 1_000_000) MB for a \(size / 1_000_000) MB checkpoint")
  }
}

import EngineTestSupport
import Foundation
import XCTest

/// Hostile weights files through the command line: exit status 1 with one line, never a
/// signal, within 1 GiB of virtual memory.
final class HostileCheckpointTests: XCTestCase {
  private let cli = PodiumRunner()
  private let checkpoints = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("EngineTests/Fixtures/checkpoints")

  func testHostileFiles_exitWithOneLine_withinOneGiB() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var files: [String: Data] = [:]
    let zip = try Data(contentsOf: checkpoints.appendingPathComponent("state.pth"))
    let legacy = try Data(contentsOf: checkpoints.appendingPathComponent("state_legacy.pth"))
    files["truncated.pth"] = zip.prefix(zip.count / 2)
    files["truncated_legacy.pth"] = legacy.prefix(legacy.count - 100)
    var rng = SystemRandomNumberGenerator()
    files["random.pth"] = Data((0..<65_536).map { _ in UInt8.random(in: 0...255, using: &rng) })
    files["evil.pth"] = try Data(contentsOf: checkpoints.appendingPathComponent("evil.pth"))
    var huge = (UInt64(1) << 60).littleEndian
    files["huge_header.safetensors"] = Data(bytes: &huge, count: 8) + Data(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.utf8)
    files["huge_storage_legacy.pth"] = try Data(contentsOf: checkpoints.appendingPathComponent("huge_storage_legacy.pth"))
    files["huge_element_count.pth"] = HostilePickles.hugeElementCount
    files["self_containing_dict.pth"] = HostilePickles.selfContainingDict
    files["nested_tuples.pth"] = HostilePickles.nestedTuples(depth: 1_000_000)
    for (name, data) in files.sorted(by: { $0.key < $1.key }) {
      let url = folder.appendingPathComponent(name)
      try data.write(to: url)
      let result = try cli.run(["weights", "import", url.path, "--backbone", "resnet18"], memoryLimitKB: 1 << 20)
      XCTAssertEqual(result.status, 1, "\(name): \(result.stderr)")
      let lines = result.stderr.split(separator: "\n")
      XCTAssertEqual(lines.count, 1, "\(name): \(result.stderr)")
      XCTAssertTrue(lines.first?.hasPrefix("Error: cannot read \(url.path): ") == true, "\(name): \(result.stderr)")
    }
  }
}

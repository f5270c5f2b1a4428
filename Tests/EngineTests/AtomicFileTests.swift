import Engine
import EngineTestSupport
import Foundation
import XCTest

/// Writes on a full file system: one error naming the file, the old file intact, no
/// temporary file left behind.
final class AtomicFileTests: XCTestCase {
  func testFullDisk_failsNamingTheFile_keepsTheOldFile_leavesNoTemporaryFile() throws {
    let disk = try TinyFileSystem(megabytes: 1)
    defer { disk.unmount() }
    let url = disk.folder.appendingPathComponent("model.safetensors")
    let small = [(name: "w", tensor: Tensor(shape: [4], values: [1, 2, 3, 4]))]
    try Checkpoint.writeSafetensors(small, metadata: [:], to: url)
    let large = [(name: "w", tensor: Tensor(shape: [512, 1024], repeating: 1))]  // 2 MiB
    XCTAssertThrowsError(try Checkpoint.writeSafetensors(large, metadata: [:], to: url)) { error in
      XCTAssertEqual("\(error)", "cannot write \(url.path): No space left on device")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.folder.path), ["model.safetensors"])
    XCTAssertEqual(try Checkpoint(contentsOf: url).tensor(named: "w"), small[0].tensor)
    XCTAssertThrowsError(try AtomicFile.write(Data(count: 2 << 20), to: disk.folder.appendingPathComponent("a.csv"))) {
      XCTAssertEqual("\($0)", "cannot write \(disk.folder.path)/a.csv: No space left on device")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.folder.path), ["model.safetensors"])
  }
}

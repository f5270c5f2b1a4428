import Engine
import EngineTestSupport
import Foundation
import XCTest

/// The checkpoint readers against files PyTorch wrote (scripts/reference/make_checkpoint_fixtures.py),
/// the safetensors writer, and hostile files.
final class CheckpointTests: XCTestCase {
  private func fixture(_ name: String) throws -> URL {
    try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/checkpoints"))
  }

  private func expected() throws -> [String: Tensor] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: try fixture("expected.json")))
    let entries = try XCTUnwrap(object as? [String: Any])
    return try entries.mapValues(Fixtures.tensor(from:))
  }

  func testReaders_matchWhatPyTorchSaved_inEveryFormat() throws {
    let want = try expected()
    let formats: [(String, Checkpoint.Format)] = [
      ("state.pth", .pytorchZip), ("state_legacy.pth", .pytorchLegacy), ("state.safetensors", .safetensors),
    ]
    try withEvery("file", in: formats) { file, format in
      let checkpoint = try Checkpoint(contentsOf: try fixture(file))
      XCTAssertEqual(checkpoint.format, format)
      XCTAssertEqual(Set(checkpoint.names), Set(want.keys))
      for (name, tensor) in try checkpoint.readAll() {
        // half values round-trip exactly; everything else is float32 already
        assertClose(tensor, want[name]!, relative: 0, absolute: 0, "\(file) \(name)")
      }
    }
  }

  func testZipReader_keepsStateDictOrder() throws {
    let names = try Checkpoint(contentsOf: try fixture("state.pth")).names
    XCTAssertEqual(Array(names.prefix(3)), ["0.weight", "0.bias", "1.weight"])
  }

  func testSafetensorsWriter_roundTripsAndLeavesNoTemporaryFile() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var rng = SeededGenerator(seed: 1)
    let tensors = [("conv.weight", Tensor.randomNormal(shape: [3, 3, 2, 4], std: 1, rng: &rng)),
                   ("fc.bias", Tensor(shape: [5], values: [1, 2, 3, 4, 5])), ("empty", Tensor(shape: [0, 3]))]
    let url = folder.appendingPathComponent("model.safetensors")
    try Checkpoint.writeSafetensors(tensors.map { (name: $0.0, tensor: $0.1) }, metadata: ["layout": "nhwc"], to: url)
    try Checkpoint.writeSafetensors(tensors.map { (name: $0.0, tensor: $0.1) }, metadata: ["layout": "nhwc"], to: url)  // overwrite
    let read = try Checkpoint(contentsOf: url)
    XCTAssertEqual(read.format, .safetensors)
    XCTAssertEqual(read.metadata, ["layout": "nhwc"])
    XCTAssertEqual(read.names, tensors.map(\.0))
    for ((_, a), (_, b)) in zip(try read.readAll(), tensors) { XCTAssertEqual(a, b) }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["model.safetensors"])
  }

  // MARK: - Hostile files

  func testPickleCallingOSSystem_isRefusedAndNothingRuns() throws {
    try? FileManager.default.removeItem(atPath: "/tmp/podium-pwned")
    try withEvery("file", in: ["evil.pth", "evil_zip.pth"]) { file in
      XCTAssertThrowsError(try Checkpoint(contentsOf: try fixture(file))) { error in
        XCTAssertTrue("\(error)".contains("posix.system"), "\(error)")
        XCTAssertTrue("\(error)".hasPrefix("cannot read "), "\(error)")
      }
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/podium-pwned"))
  }

  func testTruncatedFiles_failWithAnErrorAtEveryKilobyte() throws {
    try withEvery("file", in: ["state.pth", "state_legacy.pth", "state.safetensors"]) { file in
      let bytes = try Data(contentsOf: try fixture(file))
      var cut = 0
      while cut < bytes.count {
        let url = try temporaryFile(bytes.prefix(cut))
        XCTAssertThrowsError(try Checkpoint(contentsOf: url), "\(file) cut at \(cut)") { error in
          XCTAssertTrue(error is CheckpointError, "\(error)")
        }
        cut += 1024
      }
      // And one byte short of complete.
      XCTAssertThrowsError(try Checkpoint(contentsOf: try temporaryFile(bytes.dropLast())), "\(file) minus one byte")
    }
  }

  func testRandomBytes_areNotACheckpoint() throws {
    var rng = SeededGenerator(seed: 5)
    for size in [0, 1, 13, 4096] {
      let url = try temporaryFile(Data((0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
      XCTAssertThrowsError(try Checkpoint(contentsOf: url)) { XCTAssertTrue($0 is CheckpointError) }
    }
    // Random bytes behind a valid-looking start of each format.
    for prefix in [[0x50, 0x4B, 0x03, 0x04], [0x80, 0x02, 0x8A, 0x0A] + PyTorchMagic.bytes] as [[UInt8]] {
      let url = try temporaryFile(Data(prefix + (0..<3000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
      XCTAssertThrowsError(try Checkpoint(contentsOf: url)) { XCTAssertTrue($0 is CheckpointError, "\($0)") }
    }
  }

  func testSafetensorsHeaderClaimingTwoToTheSixtyBytes_isRefused() throws {
    var length = (UInt64(1) << 60).littleEndian
    let url = try temporaryFile(Data(bytes: &length, count: 8) + Data("{\"a\":{}}".utf8))
    XCTAssertThrowsError(try Checkpoint(contentsOf: url)) { error in
      XCTAssertTrue("\(error)".contains("header claims 1152921504606846976 bytes"), "\(error)")
    }
    // A tensor whose offsets point past the data.
    let header = #"{"w":{"dtype":"F32","shape":[1073741824,1073741824],"data_offsets":[0,4]}}"#
    var short = UInt64(header.utf8.count).littleEndian
    let url2 = try temporaryFile(Data(bytes: &short, count: 8) + Data(header.utf8) + Data(count: 4))
    XCTAssertThrowsError(try Checkpoint(contentsOf: url2)) { XCTAssertTrue("\($0)".contains("shape"), "\($0)") }
  }

  /// Three pickles that crashed the reader (a trap on overflow, a stack overflow on a
  /// dict that holds itself, a stack overflow on freeing deep nesting) fail with one error.
  func testHostilePickles_failWithAnErrorNotACrash() throws {
    let cases: [(String, Data, String)] = [
      ("huge element count", HostilePickles.hugeElementCount, "claims 9223372036854775800 elements"),
      ("self-containing dict", HostilePickles.selfContainingDict, "into itself"),
      ("nested tuples", HostilePickles.nestedTuples(depth: 1_000_000), "nests deeper than"),
    ]
    try withEvery("pickle", in: cases) { name, data, reason in
      XCTAssertThrowsError(try Checkpoint(contentsOf: try temporaryFile(data))) { error in
        XCTAssertTrue(error is CheckpointError, "\(error)")
        XCTAssertTrue("\(error)".contains(reason), "\(name): \(error)")
      }
    }
  }

  func testMissingFile_namesIt() {
    XCTAssertThrowsError(try Checkpoint(contentsOf: URL(fileURLWithPath: "/nonexistent/model.pth"))) {
      XCTAssertEqual("\($0)", "cannot read /nonexistent/model.pth: no such file")
    }
  }

  private func temporaryFile(_ data: Data) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("podium-ckpt-\(UUID().uuidString)")
    try data.write(to: url)
    addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
  }
}

/// The legacy format's magic number bytes, for building hostile files.
enum PyTorchMagic {
  static let bytes: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
}

import Datasets
import EngineTestSupport
import Foundation
import ResultsStore
import XCTest

/// `podium sweep run` and `status`, including a `kill -9` in the middle of a sweep.
final class SweepCommandTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-sweep-\(UUID().uuidString)")
    let demo = DemoDataset(imagesPerClass: 4, testImagesPerClass: 1, size: 32)
    try demo.write(to: folder.appendingPathComponent("data"))
    let spec = """
      name: tiny
      dataset:
        adapter: natural-images
        root: \(folder.appendingPathComponent("data").path)
        split: {train: 0.5, val: 0.25, test: 0.25, seed: 0}
      metric: accuracy
      grid:
        backbone: [small_cnn, efficientnet_lite0]
        strategy: [scratch]
        lr: [0.001, 0.002, 0.003]
      fixed: {epochs: 4, batch_size: 8, image_size: 32, augment: none}
      """
    try spec.write(to: folder.appendingPathComponent("sweep.yaml"), atomically: true, encoding: .utf8)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  private var arguments: [String] {
    ["sweep", "run", folder.appendingPathComponent("sweep.yaml").path, "--db", folder.appendingPathComponent("podium.sqlite").path,
     "--work", folder.appendingPathComponent("runs").path]
  }

  private func counts() throws -> [String: Int] {
    try ResultsStore(path: folder.appendingPathComponent("podium.sqlite").path).sweepSummaries().first?.counts ?? [:]
  }

  /// Killed with SIGKILL as soon as a run has recorded an epoch, then run again: every
  /// planned run ends done exactly once.
  func testKillNineMidSweep_thenRerun_finishesEveryRunExactlyOnce() throws {
    let process = Process()
    process.executableURL = PodiumRunner().executable
    process.arguments = arguments
    process.environment = PodiumRunner.commandEnvironment
    process.standardOutput = FileHandle.nullDevice
    let errorLog = folder.appendingPathComponent("first-run.stderr")
    FileManager.default.createFile(atPath: errorLog.path, contents: nil)
    process.standardError = try FileHandle(forWritingTo: errorLog)
    try process.run()
    let database = folder.appendingPathComponent("podium.sqlite").path
    let deadline = Date().addingTimeInterval(120)
    var killed = false
    while Date() < deadline && process.isRunning {
      if FileManager.default.fileExists(atPath: database), let store = try? ResultsStore(path: database),
        let summary = try? store.sweepSummaries().first, (summary.counts["done"] ?? 0) >= 1, (summary.counts["running"] ?? 0) >= 1
      {
        kill(process.processIdentifier, SIGKILL)
        killed = true
        break
      }
      usleep(20_000)
    }
    process.waitUntilExit()
    let said = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
    XCTAssertTrue(killed, "the sweep finished before it could be killed (status \(process.terminationStatus)): \(said)")
    let interrupted = try counts()
    XCTAssertEqual(interrupted.values.reduce(0, +), 6, "all six runs were planned before the kill: \(interrupted)")
    let rerun = try PodiumRunner().run(arguments)
    XCTAssertEqual(rerun.status, 0, rerun.stderr)
    XCTAssertEqual(try counts(), ["done": 6])
    XCTAssertEqual(try ResultsStore(path: database).predictionCount(subset: .unlabelled), 6 * 8, "every unlabelled image of every run, once")
    let status = try PodiumRunner().run(["sweep", "status", "--db", database, "--json"])
    XCTAssertTrue(status.stdout.contains("\"done\":6"), status.stdout)
  }

  /// Checkpoints on a full file system (a 2 MiB tmpfs): the run whose checkpoint does not fit
  /// fails with one line naming the file, the sweep goes on, no temporary file is left, and
  /// the store (on another disk) keeps the run that finished.
  func testAFullDisk_failsTheRunNamingTheFile_andKeepsEveryFinishedResult() throws {
    let disk = try TinyFileSystem(megabytes: 2)
    defer { disk.unmount() }
    let spec = """
      name: full
      dataset: {adapter: natural-images, root: "\(folder.appendingPathComponent("data").path)", split: {train: 0.5, val: 0.25, test: 0.25}}
      grid: {backbone: [small_cnn], strategy: [scratch], image_size: [32, 96]}
      fixed: {epochs: 2, batch_size: 8, augment: none, optimizer: sgd, momentum: 0}
      """
    let specFile = folder.appendingPathComponent("full.yaml")
    try spec.write(to: specFile, atomically: true, encoding: .utf8)
    let database = folder.appendingPathComponent("full.sqlite").path
    let result = try PodiumRunner().run(["sweep", "run", specFile.path, "--db", database, "--work", disk.folder.path])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(result.stdout.contains("1 runs finished, 1 failed"), result.stdout)
    let failure = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.hasPrefix("run 2 failed: ") })
    XCTAssertTrue(failure.hasSuffix(".safetensors: No space left on device"), String(failure))
    XCTAssertTrue(failure.contains("cannot write \(disk.folder.path)/full/run-2/train/"), String(failure))
    let leftovers = FileManager.default.enumerator(atPath: disk.folder.path)?.compactMap { $0 as? String } ?? []
    XCTAssertEqual(leftovers.filter { $0.hasSuffix(".tmp") }, [], "no temporary file or folder is left")
    let store = try ResultsStore(path: database)
    let runs = try store.runs(sweep: try store.latestSweepID())
    XCTAssertEqual(runs.map(\.status.rawValue), ["done", "failed"])
    XCTAssertEqual(try store.predictions(run: runs[0].id, subset: .validation).count, 8)
  }
}

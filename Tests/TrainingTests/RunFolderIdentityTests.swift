import Datasets
import Foundation
import Training
import XCTest

/// A checkpoint folder belongs to one run: the same run resumes from it; another run (other
/// settings or images) is refused in a folder the user named and starts afresh in a sweep's
/// own run folder, never continuing the other run's weights.
final class RunFolderIdentityTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-identity-\(UUID().uuidString)")
    try DemoDataset(imagesPerClass: 4, testImagesPerClass: 0, size: 32).write(to: folder.appendingPathComponent("data"))
  }

  override func tearDown() { try? FileManager.default.removeItem(at: folder) }

  private func run(lr: Float, replacing: Bool = false, events: inout [String]) throws -> RunResult {
    let dataset = try DatasetAdapter.naturalImages.load(root: folder.appendingPathComponent("data"))
    var spec = RunSpec(backbone: .smallCNN, strategy: .scratch)
    (spec.training.epochs, spec.training.batchSize, spec.imageSize, spec.augmentation, spec.training.learningRate) = (2, 8, 32, "none", lr)
    var run = TrainingRun(spec: spec, dataset: dataset, split: try Split(dataset, spec: .perClass(train: 3, validation: 1, test: 0), seed: 0),
                          folder: folder.appendingPathComponent("run"))
    run.replacesOtherRunsCheckpoints = replacing
    var seen: [String] = []
    run.observers = [{ event in
      switch event {
      case .epochRestored: seen.append("restored")
      case .otherRunsCheckpointsRemoved: seen.append("removed")
      default: break
      }
    }]
    defer { events = seen }
    return try run.run()
  }

  func testAnotherRunsCheckpoints_areRefusedOrReplaced_neverResumed() throws {
    var events: [String] = []
    let first = try run(lr: 0.01, events: &events)
    XCTAssertEqual(events, [])
    _ = try run(lr: 0.01, events: &events)
    XCTAssertEqual(events, ["restored", "restored"], "the same run resumes from its own checkpoints")
    XCTAssertThrowsError(try run(lr: 0.001, events: &events)) {
      XCTAssertTrue("\($0)".hasSuffix("/run holds the checkpoints of another run (other settings or images); "
        + "resume it with its own settings, or choose another folder"), "\($0)")
    }
    let replaced = try run(lr: 0.001, replacing: true, events: &events)
    XCTAssertEqual(events, ["removed"], "trained afresh: nothing restored")
    XCTAssertEqual(replaced.outcome.history.count, 2)
    let fresh = folder.appendingPathComponent("run")
    try FileManager.default.removeItem(at: fresh)
    let alone = try run(lr: 0.001, events: &events)
    XCTAssertEqual(alone.outcome.history.map(\.trainLoss), replaced.outcome.history.map(\.trainLoss), "as if the folder had been empty")
    XCTAssertNotEqual(alone.outcome.history.map(\.trainLoss), first.outcome.history.map(\.trainLoss))
  }
}

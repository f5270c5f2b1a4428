import Datasets
import Foundation
import Sweeps
import Training
import XCTest

/// The runner against an in-memory sink.
final class SweepRunnerTests: XCTestCase {
  final class MemorySink: ResultSink {
    var planned: [RunSpec] = []
    var statuses: [Int64: RunStatus] = [:]
    var epochs: [Int64: [Int]] = [:]
    var errors: [Int64: String] = [:]
    var finished: [Double]

    init(finished: [Double]) { self.finished = finished }

    var dataset: DatasetRecord?
    var completions: [Int64: RunCompletion] = [:]

    func planSweep(name: String, spec: String, metric: MetricName, dataset: DatasetRecord, runs: [RunSpec]) throws -> Int64 {
      self.dataset = dataset
      if planned.isEmpty {
        planned = runs
        for index in runs.indices { statuses[Int64(index + 1)] = .queued }
      }
      return 1
    }
    func claimRun(sweep: Int64, worker: WorkerIdentity, policy: LeasePolicy) throws -> RunClaim? {
      guard let index = planned.indices.first(where: { statuses[Int64($0 + 1)] == .queued }) else { return nil }
      return try claim(Int64(index + 1), worker)
    }
    func claimTask(sweep: Int64, spec: RunSpec, worker: WorkerIdentity, policy: LeasePolicy) throws -> RunClaim? {
      guard let index = planned.firstIndex(of: spec), statuses[Int64(index + 1)]?.isOpen == true else { return nil }
      return try claim(Int64(index + 1), worker)
    }
    private func claim(_ id: Int64, _ worker: WorkerIdentity) throws -> RunClaim {
      statuses[id] = .running
      return RunClaim(run: id, spec: try planned[Int(id) - 1].canonicalJSON(), attempt: 1, worker: worker, token: UUID().uuidString)
    }
    func renewLease(_ claim: RunClaim, policy: LeasePolicy) throws -> Bool { true }
    func recordEpoch(_ claim: RunClaim, _ epoch: EpochRecord) throws {
      epochs[claim.run, default: []].append(epoch.epoch)
    }
    func completeRun(_ claim: RunClaim, _ completion: RunCompletion) throws {
      statuses[claim.run] = completion.outcome
      errors[claim.run] = completion.error
      completions[claim.run] = completion
    }
    func finishedMetrics(sweep: Int64, epoch: Int) throws -> [Double] { finished }
  }

  private func spec(_ folder: URL, extra: String) throws -> (SweepSpec, String) {
    let demo = DemoDataset(imagesPerClass: 4, testImagesPerClass: 0, size: 32)
    try demo.write(to: folder)
    let text = """
      name: runner
      dataset: {adapter: natural-images, root: \(folder.path), split: {train: 0.5, val: 0.25, test: 0.25}}
      grid: {backbone: [small_cnn], strategy: [scratch]}
      fixed: {epochs: 3, batch_size: 8, image_size: 32, augment: none}
      \(extra)
      """
    return (try SweepSpec.parse(text, file: "runner.yaml"), text)
  }

  /// Finished runs reached 0.8–0.9 at every epoch; a new run at chance level is pruned after
  /// its grace epoch.
  func testMedianRule_prunesARunBelowTheFinishedRuns() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-prune-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let (spec, text) = try spec(folder.appendingPathComponent("data"), extra: "prune: {grace: 1}")
    let sink = MemorySink(finished: [0.9, 0.8])
    try SweepRunner(spec: spec, specText: text, sink: sink, workFolder: folder.appendingPathComponent("runs")).run()
    XCTAssertEqual(sink.statuses[1], .pruned)
    XCTAssertEqual(sink.epochs[1], [0], "stopped after its first epoch")
  }

  /// A sweep over `swa_epochs: [0, 2]`: the averaging run stores its trained weights' own
  /// best validation score beside its score, the plain run none.
  func testWeightAveraging_storesTheTrainedWeightsScoreBeside() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-swa-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var (spec, text) = try spec(folder.appendingPathComponent("data"), extra: "")
    spec.grids = [[(.backbone, [.text("small_cnn")]), (.swaEpochs, [.number(0), .number(2)])]]
    let sink = MemorySink(finished: [])
    XCTAssertEqual(try SweepRunner(spec: spec, specText: text, sink: sink, workFolder: folder.appendingPathComponent("runs")).run().done, 2)
    XCTAssertNil(sink.completions[1]?.unaveragedValidationMetric)
    let averaged = try XCTUnwrap(sink.completions[2]?.unaveragedValidationMetric)
    XCTAssertTrue((0...1).contains(averaged))
  }

  /// A run that cannot train is marked failed with its reason; the sweep goes on.
  func testAFailingRun_isMarkedFailedAndTheSweepGoesOn() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-fail-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let (spec, text) = try spec(folder.appendingPathComponent("data"), extra: "")
    var failing = spec
    failing.grids = [[(.backbone, [.text("small_cnn")]), (.optimizer, [.text("sgd")]), (.schedule, [.text("constant")]),
                    (.lr, [.number(1e12), .number(0.001)])]]
    let sink = MemorySink(finished: [])
    let (done, failed) = try SweepRunner(spec: failing, specText: text, sink: sink, workFolder: folder.appendingPathComponent("runs")).run()
    XCTAssertEqual([done, failed], [1, 1])
    XCTAssertEqual(sink.statuses[1], .failed)
    XCTAssertTrue(sink.errors[1]?.hasPrefix("loss became") == true, "\(String(describing: sink.errors[1]))")
    XCTAssertEqual(sink.statuses[2], .done)
    // The finished run leaves its confusion matrices, a prediction for every validation and
    // test image, and its best checkpoint; the sweep its classes and split.
    let completion = try XCTUnwrap(sink.completions[2])
    XCTAssertEqual(Set(completion.confusion.keys), [.validation, .test])
    XCTAssertEqual(completion.predictions.filter { $0.subset == .validation }.count, 8)
    XCTAssertEqual(completion.predictions.filter { $0.subset == .test }.count, 8)
    XCTAssertTrue(completion.predictions.allSatisfy { $0.label != nil && $0.probabilities.count == 8 })
    XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(completion.artifacts[.checkpoint])))
    XCTAssertEqual(sink.dataset?.classNames.count, 8)
    XCTAssertEqual(sink.dataset?.assignments.count, 32)
  }
}

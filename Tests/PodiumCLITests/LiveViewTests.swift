import Datasets
import Foundation
import XCTest

/// `podium report --watch` and `podium sweep status --watch` while a sweep runs: both follow
/// it and stop once nothing is left to run; the report reloads itself only while it runs.
final class LiveViewTests: XCTestCase {
  func testWatchers_followARunningSweep_andStopWhenItIsDone() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podium-watch-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try DemoDataset(imagesPerClass: 4, testImagesPerClass: 1, size: 32).write(to: folder.appendingPathComponent("data"))
    let spec = """
      name: watched
      dataset: {adapter: natural-images, root: "\(folder.appendingPathComponent("data").path)", split: {train: 0.5, val: 0.25, test: 0.25}}
      grid: {backbone: [small_cnn], strategy: [scratch], lr: [0.001, 0.002, 0.003, 0.004]}
      fixed: {epochs: 8, batch_size: 4, image_size: 32, augment: none}
      """
    try spec.write(to: folder.appendingPathComponent("watched.yaml"), atomically: true, encoding: .utf8)
    let database = folder.appendingPathComponent("podium.sqlite").path
    let sweep = Process()
    sweep.executableURL = PodiumRunner().executable
    sweep.arguments = ["sweep", "run", folder.appendingPathComponent("watched.yaml").path, "--db", database, "--work", folder.appendingPathComponent("runs").path]
    sweep.environment = PodiumRunner.commandEnvironment
    (sweep.standardOutput, sweep.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
    try sweep.run()
    defer { if sweep.isRunning { sweep.terminate() } }
    let deadline = Date().addingTimeInterval(60)
    while !FileManager.default.fileExists(atPath: database) && Date() < deadline { usleep(20_000) }
    usleep(300_000)
    let reports = folder.appendingPathComponent("reports").path
    let report = try PodiumRunner().run(["report", "--db", database, "--out", reports, "--watch", "--interval", "1"])
    XCTAssertEqual(report.status, 0, report.stderr)
    XCTAssertFalse(sweep.isRunning && report.stdout.isEmpty)
    let lines = report.stdout.split(separator: "\n")
    XCTAssertTrue(lines.dropLast().allSatisfy { $0.hasSuffix("still to finish, rewriting in 1 s") }, report.stdout)
    XCTAssertGreaterThanOrEqual(lines.count, 2, "rewritten at least once while the sweep ran: \(report.stdout)")
    XCTAssertEqual(lines.last.map(String.init), "report written to \(reports)/watched/index.html")
    sweep.waitUntilExit()
    let page = try String(contentsOfFile: "\(reports)/watched/index.html", encoding: .utf8)
    XCTAssertFalse(page.contains("http-equiv=\"refresh\""), "the final page stays still")
    XCTAssertTrue(page.contains("4 runs: 4 done"), "the final page has every run")

    let status = try PodiumRunner().run(["sweep", "status", "--db", database, "--watch", "--interval", "1"])
    XCTAssertEqual(status.status, 0, status.stderr)
    let block = status.stdout.split(separator: "\n")
    XCTAssertEqual(block.count, 2, "one block, since nothing is left to run: \(status.stdout)")
    XCTAssertTrue(block[0].hasPrefix("-- ") && block[0].hasSuffix(" --"), "a plain header when piped: \(block[0])")
    XCTAssertTrue(block[1].hasPrefix("watched: 4 done, 0 pruned, 0 failed, 0 running, 0 queued; best run "), String(block[1]))
    XCTAssertFalse(block[1].contains(" left"), "no time left to estimate: \(block[1])")
  }
}

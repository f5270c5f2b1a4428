import Datasets
import Engine
import Foundation
import Imaging
import Reports
import Sweeps

/// Every parser Podium runs on files from strangers, as one function per target that takes
/// the raw bytes of a file. Built with `-sanitize=fuzzer,address -DFUZZING`
/// (`scripts/fuzz/run.sh`) the target is chosen by `PODIUM_FUZZ_TARGET` and libFuzzer
/// drives it; built normally, `podium-fuzz TARGET FILE...` replays files through the same
/// function (to reproduce a finding). A target may throw — a clean error is the expected
/// outcome for bad input — but must never crash, hang or leak.
enum FuzzTarget: String, CaseIterable {
  case jpeg, png, checkpoint, pickle, safetensors, csv, spec, submission

  func run(_ data: Data) {
    switch self {
    case .jpeg, .png: _ = try? ImageDecoder.decode([UInt8](data), path: "input", maxPixels: Self.maxPixels)
    case .checkpoint, .safetensors: readCheckpoint(data)
    case .pickle: readCheckpoint(Self.legacyPrefix() + data)
    case .csv: loadCSVDataset(data)
    case .spec: readSpec(data)
    case .submission: score(data)
    }
  }

  /// The image decoders' pixel limit while fuzzing: 4 megapixels instead of 100. A tiny file
  /// may declare a legitimate 96-megapixel image, which libjpeg then fills with grey; under
  /// the sanitizers that takes longer than the fuzzer's timeout without being a fault (the
  /// first 30-minute run reported such an input; it is a seed, refused here as too large).
  static let maxPixels = 1 << 22

  /// A checkpoint file: parsed, then every tensor materialised.
  private func readCheckpoint(_ data: Data) {
    guard let url = Scratch.write(data, as: "input.pth"), let checkpoint = try? Checkpoint(contentsOf: url) else { return }
    _ = try? checkpoint.readAll()
  }

  /// The CSV adapter on a root holding one real image, with the input as its labels file.
  private func loadCSVDataset(_ data: Data) {
    _ = try? CSVTable(data: data, path: "labels.csv")
    guard let labels = Scratch.write(data, as: "labels.csv") else { return }
    _ = try? DatasetAdapter.csv.load(root: labels.deletingLastPathComponent(), options: ["file": "labels.csv"])
  }

  /// A sweep spec: read, then expanded into its runs.
  private func readSpec(_ data: Data) {
    guard let spec = try? SweepSpec.parse(String(decoding: data, as: UTF8.self), file: "spec.yaml") else { return }
    _ = try? spec.expand()
    _ = try? spec.yaml()
  }

  /// A submission scored against answers: the input holds both, split at its first zero byte.
  private func score(_ data: Data) {
    let parts = data.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, let submission = Scratch.write(Data(parts[0]), as: "submission.csv"),
      let answers = Scratch.write(Data(parts[1]), as: "answers.csv")
    else { return }
    _ = try? Scorer(metric: .logLoss).score(submission: submission, answers: answers)
    _ = try? Scorer(metric: .macroF1).score(submission: submission, answers: answers)
    _ = try? Scorer(scoring: .meanAveragePrecision(at: 3)).score(submission: submission, answers: answers)
  }

  /// The legacy checkpoint's first three pickles (magic number, protocol 1001, system
  /// info), so that the input is read as the state-dict pickle and what follows it. Made
  /// afresh for each input: LeakSanitizer reports storage that a Swift global keeps.
  static func legacyPrefix() -> Data {
    Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,
          0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E, 0x80, 0x02, 0x7D, 0x2E])
  }
}

/// A per-process folder under /dev/shm (or the temporary folder) for inputs the parsers
/// read from files, holding a small JPEG that CSV inputs may name. Nothing is kept in Swift
/// globals, which LeakSanitizer would report.
enum Scratch {
  static var folder: URL {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
    let folder = base.appendingPathComponent("podium-fuzz-\(getpid())")
    let image = folder.appendingPathComponent("a.jpg")
    if !FileManager.default.fileExists(atPath: image.path) {
      try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let pixels = [UInt8](repeating: 128, count: 8 * 8 * 3)
      try? ImageEncoder.encode(Image(width: 8, height: 8, pixels: pixels), asPNG: false).write(to: image)
    }
    return folder
  }

  static func write(_ data: Data, as name: String) -> URL? {
    let url = folder.appendingPathComponent(name)
    return (try? data.write(to: url)) == nil ? nil : url
  }
}

#if FUZZING
nonisolated(unsafe) private var selectedTarget = FuzzTarget.jpeg

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
  guard let name = ProcessInfo.processInfo.environment["PODIUM_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
    fputs("set PODIUM_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n", stderr)
    exit(2)
  }
  selectedTarget = target
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
  selectedTarget.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
  return 0
}
#else
/// `podium-fuzz TARGET FILE...`: replays files through a fuzz target, one line each.
@main
enum FuzzReplay {
  static func main() {
    let arguments = CommandLine.arguments.dropFirst()
    guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
      print("usage: podium-fuzz (\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))) FILE...")
      exit(2)
    }
    for path in arguments.dropFirst() {
      guard let data = FileManager.default.contents(atPath: path) else { print("\(path): unreadable"); continue }
      target.run(data)
      print("\(path): ok")
    }
  }
}
#endif

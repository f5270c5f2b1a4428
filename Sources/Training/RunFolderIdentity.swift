import Datasets
import Engine
import Foundation

/// Which run a checkpoint folder belongs to: `run.json` beside the phase folders holds the
/// run's parameters and a digest of its split (the images it trains and validates on), so a
/// resume never continues another run's checkpoints — a sweep re-planned into a fresh
/// database over an old work folder, or `podium train --out` pointed at an earlier run's
/// folder with other settings.
struct RunFolderIdentity: Equatable, Codable {
  var params: String
  var split: String

  init(spec: RunSpec, dataset: Dataset, split: Split) throws {
    params = try spec.canonicalJSON()
    let paths = { (indices: [Int]) in indices.map { dataset.samples[$0].path }.joined(separator: "\n") }
    self.split = SHA256Digest.hex(of: paths(split.train) + "\n--\n" + paths(split.validation) + "\n--\n" + paths(split.test))
  }

  /// Makes `folder` this run's: writes `run.json` into a new folder, or one whose checkpoints
  /// predate `run.json` (kept, so runs interrupted under an older Podium still resume); a
  /// folder of another run is emptied when `replacingOther` (a sweep's own run folder, named
  /// by a run id that a new database gives to another run), else refused.
  ///
  /// - Returns: true when another run's checkpoints were removed.
  /// - Throws: ``TrainingError`` naming the folder when it holds another run's checkpoints
  ///   and `replacingOther` is false; file errors.
  @discardableResult
  func claim(_ folder: URL, replacingOther: Bool) throws -> Bool {
    let file = folder.appendingPathComponent("run.json")
    let contents = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    let recorded = (try? Data(contentsOf: file)).map { try? JSONDecoder().decode(Self.self, from: $0) }
    if let recorded, recorded == self { return false }
    let checkpoints = contents.filter { TrainingPhase(rawValue: $0) != nil }
    if recorded != nil, !checkpoints.isEmpty {
      guard replacingOther else {
        throw TrainingError("\(folder.path) holds the checkpoints of another run (other settings or images); "
          + "resume it with its own settings, or choose another folder")
      }
      for name in contents { try FileManager.default.removeItem(at: folder.appendingPathComponent(name)) }
    }
    try AtomicFile.write(String(decoding: try JSONEncoder().encode(self), as: UTF8.self), to: file)
    return !checkpoints.isEmpty
  }
}

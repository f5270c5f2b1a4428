import Foundation

/// One epoch's checkpoint as one atomic unit: the folder `epoch-<n>` inside a phase's
/// checkpoint folder, holding `last.safetensors` (the weights), `optimizer.safetensors`
/// (momentum or Adam moments and the step count), `best.safetensors` (the best epoch's
/// weights so far) and `state.json` (history and best epoch).
///
/// The files are written into a hidden `.epoch-<n>.tmp` folder, each synced, and the folder
/// is then renamed to `epoch-<n>`: a process killed at any moment leaves either the whole
/// new epoch or none of it, and the newest `epoch-<n>` is always complete. Older epochs are
/// removed once a newer one is in place; an unfinished temporary folder is removed when the
/// next epoch is written.
public enum EpochCheckpoint {
  /// The newest complete epoch folder in `phaseFolder`, or nil before the first epoch.
  public static func latest(in phaseFolder: URL) -> URL? {
    completeEpochs(in: phaseFolder).last?.url
  }

  /// Writes epoch `epoch` through `body`, which receives the temporary folder to fill, then
  /// makes it the latest checkpoint.
  ///
  /// - Throws: what `body` throws (the temporary folder is removed), or ``TrainingError``
  ///   when the folder cannot be renamed into place.
  @discardableResult
  public static func write(epoch: Int, in phaseFolder: URL, _ body: (URL) throws -> Void) throws -> URL {
    removeTemporaries(in: phaseFolder)
    let temporary = phaseFolder.appendingPathComponent(".epoch-\(epoch).tmp")
    let final = phaseFolder.appendingPathComponent("epoch-\(epoch)")
    do {
      try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
      try body(temporary)
      try? FileManager.default.removeItem(at: final)  // an epoch written again after a resume
      guard rename(temporary.path, final.path) == 0 else {
        throw TrainingError("cannot rename \(temporary.path) to \(final.lastPathComponent): \(String(cString: strerror(errno)))")
      }
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
    for older in completeEpochs(in: phaseFolder) where older.epoch < epoch {
      try? FileManager.default.removeItem(at: older.url)
    }
    return final
  }

  /// Makes `file` in `folder` the same content as `source` without copying it when the file
  /// system allows a hard link (the best weights carried over from an earlier epoch).
  static func carry(_ source: URL, to destination: URL) throws {
    if link(source.path, destination.path) != 0 {
      try FileManager.default.copyItem(at: source, to: destination)
    }
  }

  private static func completeEpochs(in phaseFolder: URL) -> [(epoch: Int, url: URL)] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: phaseFolder.path)) ?? []
    return names.compactMap { name -> (Int, URL)? in
      guard name.hasPrefix("epoch-"), let epoch = Int(name.dropFirst("epoch-".count)) else { return nil }
      return (epoch, phaseFolder.appendingPathComponent(name))
    }.sorted { $0.0 < $1.0 }
  }

  private static func removeTemporaries(in phaseFolder: URL) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: phaseFolder.path)) ?? []
    for name in names where name.hasPrefix(".epoch-") && name.hasSuffix(".tmp") {
      try? FileManager.default.removeItem(at: phaseFolder.appendingPathComponent(name))
    }
  }
}

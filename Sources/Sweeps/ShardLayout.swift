import Foundation

/// Where a sweep run by a scheduler keeps its files, under the shared work folder:
///
///     <work>/<sweep>/spec.yaml            the spec every task reads (copied at submission)
///     <work>/<sweep>/shards/task-I.sqlite task I's own results store
///     <work>/<sweep>/task-I/              task I's checkpoints (a requeued task resumes here)
///     <work>/<sweep>/logs/                the scheduler's output files
public struct ShardLayout: Sendable {
  public var folder: URL

  public init(work: String, sweep: String) {
    folder = URL(fileURLWithPath: work).appendingPathComponent(sweep)
  }

  public var spec: URL { folder.appendingPathComponent("spec.yaml") }
  public var shards: URL { folder.appendingPathComponent("shards") }
  public var logs: URL { folder.appendingPathComponent("logs") }

  public func shard(task: Int) -> URL { shards.appendingPathComponent("task-\(task).sqlite") }
  public func checkpoints(task: Int) -> URL { folder.appendingPathComponent("task-\(task)") }

  /// The shard files in the folder, in task order.
  public static func shardFiles(in folder: URL) -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.compactMap { name -> (Int, URL)? in
      guard name.hasPrefix("task-"), name.hasSuffix(".sqlite"), let index = Int(name.dropFirst(5).dropLast(7)) else { return nil }
      return (index, folder.appendingPathComponent(name))
    }.sorted { $0.0 < $1.0 }.map(\.1)
  }
}

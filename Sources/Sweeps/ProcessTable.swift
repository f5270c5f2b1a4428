import Foundation

/// Reads Linux's process table (`/proc`), to tell a live worker from a dead one on this host.
enum ProcessTable {
  /// The start time of process `pid` in clock ticks since boot (field 22 of
  /// `/proc/PID/stat`), or nil when there is no such process (or no `/proc`).
  static func startTicks(of pid: Int32) -> UInt64? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let commandEnd = stat.range(of: ")", options: .backwards)
    else { return nil }
    // After ") " come field 3 (state) onwards; the start time is field 22.
    let fields = stat[commandEnd.upperBound...].split(separator: " ")
    return fields.count > 19 ? UInt64(fields[19]) : nil
  }
}

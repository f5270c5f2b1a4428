import Foundation

/// Renews a claim's lease on its own thread every heartbeat while the run trains, and
/// remembers when the lease was lost (the run was reclaimed by another worker) so that the
/// training loop can stop at its next batch.
final class LeaseKeeper: @unchecked Sendable {
  private let claim: RunClaim
  private let policy: LeasePolicy
  private let sink: any ResultSink
  private let condition = NSCondition()
  private var stopped = false
  private var lost = false

  init(claim: RunClaim, policy: LeasePolicy, sink: any ResultSink) {
    (self.claim, self.policy, self.sink) = (claim, policy, sink)
  }

  /// Starts the heartbeat thread (which holds the keeper until ``stop()`` ends it; the
  /// keeper holds no reference back, so nothing outlives the run).
  func start() {
    let thread = Thread { [self] in beat() }
    thread.name = "podium-lease-\(claim.run)"
    thread.start()
  }

  /// Stops the heartbeat (the run ended): the thread wakes and ends at once.
  func stop() {
    condition.lock()
    stopped = true
    condition.broadcast()
    condition.unlock()
  }

  /// Throws ``LeaseLostError`` once a heartbeat found the run in another worker's hands.
  func check() throws {
    condition.lock()
    defer { condition.unlock() }
    if lost { throw LeaseLostError(run: claim.run) }
  }

  private func beat() {
    condition.lock()
    defer { condition.unlock() }
    while !stopped {
      _ = condition.wait(until: Date().addingTimeInterval(policy.heartbeat))
      if stopped { break }
      condition.unlock()
      // A failed write (the database busy past its timeout) is retried at the next beat;
      // only a definite "not yours any more" ends the claim.
      let held = (try? sink.renewLease(claim, policy: policy)) ?? true
      condition.lock()
      if !held {
        lost = true
        break
      }
    }
  }
}

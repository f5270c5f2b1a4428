import Engine

/// Runs `body` once for every matrix-kernel variant this CPU supports
/// (``MatrixKernels/supported``), with that variant active and labelled in failures, then
/// restores the one that was active.
public func withEveryMatrixKernel(_ body: (MatrixKernels.Variant) throws -> Void) rethrows {
  let saved = MatrixKernels.active
  defer { MatrixKernels.active = saved }
  try withEvery("matrix kernels", in: MatrixKernels.supported) { variant in
    MatrixKernels.active = variant
    try body(variant)
  }
}

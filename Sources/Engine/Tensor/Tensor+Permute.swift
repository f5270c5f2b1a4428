extension Tensor {
  /// The tensor with its dimensions reordered: dimension `i` of the result is dimension
  /// `axes[i]` of `self` (NumPy's `transpose(axes)`, PyTorch's `permute`). Copies.
  ///
  /// ```swift
  /// let hwio = oihw.permuted([2, 3, 1, 0])   // [OC, IC, KH, KW] → [KH, KW, IC, OC]
  /// ```
  /// - Precondition: `axes` is a permutation of `0..<rank`.
  public func permuted(_ axes: [Int]) -> Tensor {
    precondition(axes.sorted() == Array(0..<rank), "\(axes) is not a permutation of the \(rank) dimensions of \(shape)")
    let newShape = axes.map { shape[$0] }
    var sourceStrides = [Int](repeating: 1, count: rank)
    for i in stride(from: rank - 2, through: 0, by: -1) { sourceStrides[i] = sourceStrides[i + 1] * shape[i + 1] }
    let strides = axes.map { sourceStrides[$0] }
    var result = Tensor(uninitializedShape: newShape)
    guard count > 0 else { return result }
    let source = pointer, target = result.mutablePointer()
    var index = [Int](repeating: 0, count: rank)
    for i in 0..<count {
      var offset = 0
      for d in 0..<rank { offset += index[d] * strides[d] }
      target[i] = source[offset]
      var d = rank - 1
      while d >= 0 {
        index[d] += 1
        if index[d] < newShape[d] { break }
        index[d] = 0
        d -= 1
      }
    }
    return result
  }
}

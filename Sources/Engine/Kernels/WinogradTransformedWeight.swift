/// A convolution weight's Winograd transform (``winogradTransformWeight(_:into:layout:)``),
/// kept by the layer between forward passes while the weight does not change: in inference,
/// validation, test-time augmentation and a fine-tune's frozen layers the filters are then
/// transformed once, not at every batch (ResNet-18's `infer` spent 4.6% of its time on it,
/// ResNet-50's 1.6%). It holds four times the 3×3 weight's floats.
struct WinogradTransformedWeight {
  /// The weight's ``Parameter/version`` the transform was made from.
  let version: Int
  let layout: WinogradWeightLayout
  /// The transformed filters, ``WinogradWeightLayout/count`` floats.
  let values: Tensor

  /// Transforms `weight`'s current value (`[3, 3, IC, OC]`) into `layout`.
  init(_ weight: Parameter, layout: WinogradWeightLayout) {
    var values = Tensor(uninitializedShape: [layout.count])
    winogradTransformWeight(weight.value.pointer, into: values.mutablePointer(), layout: layout)
    (version, self.layout, self.values) = (weight.version, layout, values)
  }

  /// True while `weight` has not changed since the transform and `layout` is the one it was made in.
  func isCurrent(for weight: Parameter, layout: WinogradWeightLayout) -> Bool {
    version == weight.version && self.layout == layout
  }
}

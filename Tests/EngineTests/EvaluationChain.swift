import Engine

/// Convolution, batch norm in evaluation mode with random statistics, optional activation.
func evaluationChain(
  _ i: Int, _ o: Int, kernel: Int, stride: Int, padding: ConvPadding, groups: Int, _ activation: ClampActivation?,
  _ rng: inout SeededGenerator
) -> [any Layer] {
  let conv = Conv2D(inChannels: i, outChannels: o, kernel: kernel, stride: stride, padding: padding, groups: groups, bias: false, rng: &rng)
  let norm = BatchNorm(channels: o)
  norm.runningMean.value = .randomUniform(shape: [o], bound: 0.5, rng: &rng)
  norm.weight.value = .randomUniform(shape: [o], bound: 2, rng: &rng)
  norm.bias.value = .randomUniform(shape: [o], bound: 1, rng: &rng)
  norm.isTraining = false
  return [conv, norm] + (activation.map { [Activation($0)] } ?? [])
}

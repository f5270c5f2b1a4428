/// How a convolution or pooling window pads its input.
public enum ConvPadding: Equatable, Sendable {
  /// Zero rows and columns added on each side; PyTorch's `padding=p` is
  /// `.explicit(top: p, bottom: p, left: p, right: p)`.
  case explicit(top: Int, bottom: Int, left: Int, right: Int)
  /// TensorFlow's "SAME": the output has `ceil(input / stride)` positions and the padding
  /// needed for that is split with the extra row or column at the bottom/right. EfficientNet
  /// checkpoints trained in TensorFlow need it.
  /// Reference: https://www.tensorflow.org/api_docs/python/tf/nn#notes_on_padding_2
  case same

  /// The same padding `p` on every side.
  public static func symmetric(_ p: Int) -> ConvPadding {
    .explicit(top: p, bottom: p, left: p, right: p)
  }
}

/// The sizes of one convolution or pooling window applied to an NHWC batch.
///
/// Shapes: input `[N, H, W, IC]`, output `[N, OH, OW, OC]` with
/// `OH = (H + padTop + padBottom - KH) / stride + 1` (and likewise for `OW`).
public struct ConvGeometry: Equatable, Sendable {
  public var batch: Int, height: Int, width: Int, inChannels: Int
  public var outChannels: Int
  public var kernelHeight: Int, kernelWidth: Int, stride: Int
  public var padTop: Int, padLeft: Int
  public var outHeight: Int, outWidth: Int

  /// Derives the output size and the top/left padding.
  ///
  /// - Precondition: the window fits the padded input at least once.
  public init(
    input: (n: Int, h: Int, w: Int, c: Int), outChannels: Int,
    kernel: (h: Int, w: Int), stride: Int, padding: ConvPadding
  ) {
    precondition(stride >= 1 && kernel.h >= 1 && kernel.w >= 1, "stride and kernel must be positive")
    (batch, height, width, inChannels) = input
    self.outChannels = outChannels
    (kernelHeight, kernelWidth, self.stride) = (kernel.h, kernel.w, stride)
    switch padding {
    case let .explicit(top, bottom, left, right):
      (padTop, padLeft) = (top, left)
      outHeight = (height + top + bottom - kernel.h) / stride + 1
      outWidth = (width + left + right - kernel.w) / stride + 1
    case .same:
      outHeight = (height + stride - 1) / stride
      outWidth = (width + stride - 1) / stride
      padTop = max((outHeight - 1) * stride + kernel.h - height, 0) / 2
      padLeft = max((outWidth - 1) * stride + kernel.w - width, 0) / 2
    }
    precondition(
      outHeight >= 1 && outWidth >= 1,
      "a \(kernel.h)x\(kernel.w) window does not fit a \(height)x\(width) input with \(padding)")
  }

  /// Values per input image row of the im2col matrix: `KH · KW · IC`.
  public var patchSize: Int { kernelHeight * kernelWidth * inChannels }
  /// Output pixels in the batch: `N · OH · OW`, the rows of the im2col matrix.
  public var outputPixels: Int { batch * outHeight * outWidth }
  /// Input shape `[N, H, W, IC]`.
  public var inputShape: [Int] { [batch, height, width, inChannels] }
  /// Output shape `[N, OH, OW, OC]`.
  public var outputShape: [Int] { [batch, outHeight, outWidth, outChannels] }
  /// Multiply-adds times two for the forward pass of a dense convolution.
  public var forwardFLOPs: Double { 2 * Double(outputPixels) * Double(patchSize) * Double(outChannels) }

  /// True when the convolution is a plain matrix product over pixels (1×1, stride 1, no padding).
  var isPointwise: Bool {
    kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padTop == 0 && padLeft == 0
      && outHeight == height && outWidth == width
  }
}

// MARK: - Window taps

extension ConvGeometry {
  /// Calls `body(kh, kw, ih, iw)` for every kernel tap of output pixel `(oh, ow)` that
  /// falls inside the input (padding taps contribute nothing and are skipped).
  @inline(__always)
  func forEachTap(oh: Int, ow: Int, _ body: (Int, Int, Int, Int) -> Void) {
    let top = oh * stride - padTop, left = ow * stride - padLeft
    for kh in validTaps(output: oh, kernel: kernelHeight, pad: padTop, extent: height) {
      for kw in validTaps(output: ow, kernel: kernelWidth, pad: padLeft, extent: width) {
        body(kh, kw, top + kh, left + kw)
      }
    }
  }

  /// The kernel taps `k` whose input position `o · stride − pad + k` lies in `0..<extent`.
  @inline(__always)
  func validTaps(output o: Int, kernel: Int, pad: Int, extent: Int) -> Range<Int> {
    let start = o * stride - pad
    return max(0, -start)..<min(kernel, extent - start)
  }
}

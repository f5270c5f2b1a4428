/// im2col and col2im for NHWC convolutions over a range of output pixels.
///
/// Row `r` of the column matrix holds the receptive field of output pixel
/// `r = (n · OH + oh) · OW + ow` as `KH · KW · IC` values ordered `(kh, kw, ic)`, which is
/// the row order of a `[KH, KW, IC, OC]` weight, so `output = columns × weight`. In NHWC the
/// `KW · IC` values of one kernel row are contiguous in the input, so a kernel row inside
/// the image is one copy. Reference: Chellapilla et al., "High Performance Convolutional
/// Neural Networks for Document Processing" (2006).
extension ConvGeometry {
  /// Writes the rows `pixels` of the column matrix to `columns` (`pixels.count × patchSize`).
  func im2col(
    _ input: UnsafePointer<Float>, pixels: Range<Int>, into columns: UnsafeMutablePointer<Float>
  ) {
    let rowLength = kernelWidth * inChannels
    for r in pixels {
      var row = columns + (r - pixels.lowerBound) * patchSize
      let (n, oh, ow) = pixelCoordinates(r)
      let iw0 = ow * stride - padLeft
      for kh in 0..<kernelHeight {
        let ih = oh * stride - padTop + kh
        if ih < 0 || ih >= height {
          row.update(repeating: 0, count: rowLength)
        } else if iw0 >= 0 && iw0 + kernelWidth <= width {
          row.update(from: input + ((n * height + ih) * width + iw0) * inChannels, count: rowLength)
        } else {
          for kw in 0..<kernelWidth {
            let iw = iw0 + kw
            let target = row + kw * inChannels
            if iw < 0 || iw >= width {
              target.update(repeating: 0, count: inChannels)
            } else {
              target.update(from: input + ((n * height + ih) * width + iw) * inChannels, count: inChannels)
            }
          }
        }
        row += rowLength
      }
    }
  }

  /// Adds the rows `pixels` of a column-matrix gradient back into the input gradient
  /// `dX` (the transpose of ``im2col(_:pixels:into:)``).
  func col2imAdd(
    _ columns: UnsafePointer<Float>, pixels: Range<Int>, into dX: UnsafeMutablePointer<Float>
  ) {
    for r in pixels {
      var row = columns + (r - pixels.lowerBound) * patchSize
      let (n, oh, ow) = pixelCoordinates(r)
      for kh in 0..<kernelHeight {
        let ih = oh * stride - padTop + kh
        if ih >= 0 && ih < height {
          for kw in 0..<kernelWidth {
            let iw = ow * stride - padLeft + kw
            if iw >= 0 && iw < width {
              addInPlace(dX + ((n * height + ih) * width + iw) * inChannels, row + kw * inChannels, inChannels)
            }
          }
        }
        row += kernelWidth * inChannels
      }
    }
  }

  /// `(n, oh, ow)` of output pixel `r`.
  @inline(__always)
  func pixelCoordinates(_ r: Int) -> (Int, Int, Int) {
    let perImage = outHeight * outWidth
    let n = r / perImage
    let rest = r - n * perImage
    let oh = rest / outWidth
    return (n, oh, rest - oh * outWidth)
  }
}

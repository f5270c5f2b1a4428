#ifndef PODIUM_CIMAGECODECS_H
#define PODIUM_CIMAGECODECS_H
// Podium's small C shim over libjpeg and libpng.
//
// libjpeg and libpng report fatal errors by longjmp, which Swift cannot catch, so this side
// owns setjmp and turns every failure into a code plus a message.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes of the decoders.
typedef enum {
  CImageCodecs_ok = 0,
  CImageCodecs_corrupt = 1,      ///< the codec rejected the data; see message
  CImageCodecs_tooLarge = 2,     ///< width * height exceeds the caller's pixel limit
  CImageCodecs_outOfMemory = 3
} CImageCodecs_Status;

/// A decoded image: 8-bit RGB, rows packed (stride = 3 * width). Free with CImageCodecs_free.
typedef struct {
  uint8_t *pixels;
  int width;
  int height;
  /// Width and height of the stored image before any DCT-domain down-scaling.
  int sourceWidth;
  int sourceHeight;
  char message[200];
} CImageCodecs_Image;

/// Decodes a JPEG (baseline, progressive, greyscale, RGB, CMYK or YCCK) to RGB.
///
/// scaleDenominator is 1, 2, 4 or 8: libjpeg's DCT-domain down-scaling by 1/N.
/// maxPixels bounds sourceWidth * sourceHeight (decompression bombs).
CImageCodecs_Status CImageCodecs_decodeJPEG(const uint8_t *data, size_t size, int scaleDenominator,
                                            size_t maxPixels, CImageCodecs_Image *out);

/// Decodes a PNG (1–16-bit, grey, grey+alpha, palette, RGB, RGBA, interlaced) to 8-bit RGB
/// as PIL's convert("RGB") does: alpha dropped, 16-bit samples cut to their high byte.
CImageCodecs_Status CImageCodecs_decodePNG(const uint8_t *data, size_t size, size_t maxPixels,
                                           CImageCodecs_Image *out);

/// Frees the pixels of a decoded image (safe on a zeroed struct).
void CImageCodecs_free(CImageCodecs_Image *image);

/// An encoded file in memory. Free with CImageCodecs_freeEncoded.
typedef struct {
  uint8_t *bytes;
  size_t size;
  char message[200];
} CImageCodecs_Encoded;

/// Encodes packed pixels as a baseline JPEG. components: 1 (grey), 3 (RGB) or 4 (CMYK,
/// written Adobe-style inverted, as Photoshop does; stored as YCCK when ycck is set).
CImageCodecs_Status CImageCodecs_encodeJPEG(const uint8_t *pixels, int width, int height, int components, int ycck,
                                            int quality, CImageCodecs_Encoded *out);

/// Encodes packed pixels as a PNG. channels: 1 (grey), 2 (grey + alpha), 3 (RGB) or
/// 4 (RGBA); with `palette` set, RGB pixels are written as an 8-bit palette image
/// (at most 256 distinct colours).
CImageCodecs_Status CImageCodecs_encodePNG(const uint8_t *pixels, int width, int height, int channels, int palette,
                                           CImageCodecs_Encoded *out);

/// Frees an encoded buffer (safe on a zeroed struct).
void CImageCodecs_freeEncoded(CImageCodecs_Encoded *encoded);

#ifdef __cplusplus
}
#endif
#endif

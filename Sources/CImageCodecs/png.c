// PNG decoding through libpng's classic API with setjmp-based error recovery, so that every
// colour type and depth reduces to 8-bit RGB exactly as PIL's convert("RGB") does (what a
// PyTorch pipeline feeds its model): palettes and grey expanded, alpha dropped rather than
// composited, 16-bit samples cut to their high byte, no gamma conversion.
#include "CImageCodecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const uint8_t *data;
  size_t size;
  size_t offset;
} PodiumPNGSource;

static void podiumPNGRead(png_structp png, png_bytep target, png_size_t length) {
  PodiumPNGSource *source = (PodiumPNGSource *)png_get_io_ptr(png);
  if (length > source->size - source->offset) png_error(png, "file ends early (truncated)");
  memcpy(target, source->data + source->offset, length);
  source->offset += length;
}

static void podiumPNGError(png_structp png, png_const_charp message) {
  snprintf((char *)png_get_error_ptr(png), 200, "%s", message);
  png_longjmp(png, 1);
}

static void podiumPNGWarning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;  // ancillary-chunk problems leave a usable image
}

/// The transforms that turn any PNG into 8-bit RGB; returns the row size in bytes.
static size_t podiumPNGToRGB(png_structp png, png_infop info) {
  int depth = png_get_bit_depth(png, info), colour = png_get_color_type(png, info);
  if (depth == 16) png_set_strip_16(png);
  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (colour == PNG_COLOR_TYPE_GRAY || colour == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_strip_alpha(png);  // an alpha channel, or the one a palette's tRNS expands into
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  return png_get_rowbytes(png, info);
}

CImageCodecs_Status CImageCodecs_decodePNG(const uint8_t *data, size_t size, size_t maxPixels,
                                           CImageCodecs_Image *out) {
  memset(out, 0, sizeof(*out));
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
    snprintf(out->message, sizeof(out->message), "not a PNG signature");
    return CImageCodecs_corrupt;
  }
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, out->message, podiumPNGError, podiumPNGWarning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_read_struct(&png, &info, NULL);
    return CImageCodecs_outOfMemory;
  }
  PodiumPNGSource source = {data, size, 0};
  // Both are assigned after setjmp and read after a longjmp: volatile, so the values seen
  // there are the last ones stored, not stale copies in registers (C11 7.13.2.1).
  png_bytep *volatile rows = NULL;
  volatile CImageCodecs_Status status = CImageCodecs_corrupt;
  if (setjmp(png_jmpbuf(png))) {
    free(rows);
    CImageCodecs_free(out);
    png_destroy_read_struct(&png, &info, NULL);
    return status;
  }
  png_set_read_fn(png, &source, podiumPNGRead);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  out->sourceWidth = (int)width;
  out->sourceHeight = (int)height;
  if ((size_t)width * (size_t)height > maxPixels) {
    snprintf(out->message, sizeof(out->message), "%ux%u pixels exceeds the limit of %zu", width, height, maxPixels);
    png_destroy_read_struct(&png, &info, NULL);
    return CImageCodecs_tooLarge;
  }
  size_t rowBytes = podiumPNGToRGB(png, info);
  status = CImageCodecs_outOfMemory;
  out->pixels = malloc(rowBytes * height);
  rows = malloc(sizeof(png_bytep) * height);
  if (!out->pixels || !rows) png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < height; y++) rows[y] = out->pixels + y * rowBytes;
  status = CImageCodecs_corrupt;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  free(rows);
  png_destroy_read_struct(&png, &info, NULL);
  out->width = (int)width;
  out->height = (int)height;
  return CImageCodecs_ok;
}

// PNG decoding through libpng's simplified png_image API (no setjmp needed).
#include "CImageCodecs.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

CImageCodecs_Status CImageCodecs_decodePNG(const uint8_t *data, size_t size, size_t maxPixels,
                                           CImageCodecs_Image *out) {
  memset(out, 0, sizeof(*out));
  png_image image;
  memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, data, size)) {
    snprintf(out->message, sizeof(out->message), "%s", image.message);
    return CImageCodecs_corrupt;
  }
  out->sourceWidth = (int)image.width;
  out->sourceHeight = (int)image.height;
  if ((size_t)image.width * (size_t)image.height > maxPixels) {
    snprintf(out->message, sizeof(out->message), "%ux%u pixels exceeds the limit of %zu",
             image.width, image.height, maxPixels);
    png_image_free(&image);
    return CImageCodecs_tooLarge;
  }
  image.format = PNG_FORMAT_RGB;  // grey, palette and 16-bit are converted; alpha is composited on black
  out->pixels = malloc(PNG_IMAGE_SIZE(image));
  if (!out->pixels) { png_image_free(&image); return CImageCodecs_outOfMemory; }
  if (!png_image_finish_read(&image, NULL, out->pixels, 0, NULL)) {
    snprintf(out->message, sizeof(out->message), "%s", image.message);
    CImageCodecs_free(out);
    return CImageCodecs_corrupt;
  }
  out->width = (int)image.width;
  out->height = (int)image.height;
  return CImageCodecs_ok;
}

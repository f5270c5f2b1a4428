// JPEG and PNG encoding, for test fixtures and generated datasets.
#include "CImageCodecs.h"

#include <stdio.h>  // before jpeglib.h, which uses FILE
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char *message;
} EncoderError;

static void encoderErrorExit(j_common_ptr cinfo) {
  EncoderError *error = (EncoderError *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, error->message);
  longjmp(error->jump, 1);
}

CImageCodecs_Status CImageCodecs_encodeJPEG(const uint8_t *pixels, int width, int height, int components, int ycck,
                                            int quality, CImageCodecs_Encoded *out) {
  memset(out, 0, sizeof(*out));
  struct jpeg_compress_struct cinfo;
  EncoderError error;
  cinfo.err = jpeg_std_error(&error.base);
  error.base.error_exit = encoderErrorExit;
  error.message = out->message;
  unsigned long size = 0;
  unsigned char *buffer = NULL;
  if (setjmp(error.jump)) {
    jpeg_destroy_compress(&cinfo);
    free(buffer);
    return CImageCodecs_corrupt;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 4 ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  if (components == 4) cinfo.write_Adobe_marker = TRUE;
  if (components == 4 && ycck) jpeg_set_colorspace(&cinfo, JCS_YCCK);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * (size_t)width * (size_t)components);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  out->bytes = buffer;
  out->size = size;
  return CImageCodecs_ok;
}

CImageCodecs_Status CImageCodecs_encodePNG(const uint8_t *pixels, int width, int height, int channels, int palette,
                                           CImageCodecs_Encoded *out) {
  memset(out, 0, sizeof(*out));
  png_image image;
  memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = (png_uint_32)width;
  image.height = (png_uint_32)height;
  static const png_uint_32 formats[] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
  if (channels < 1 || channels > 4) return CImageCodecs_corrupt;
  image.format = formats[channels];
  const void *source = pixels;
  uint8_t *indices = NULL;
  uint8_t colormap[256 * 3];
  if (palette && channels == 3) {  // index every distinct colour (at most 256)
    int colours = 0;
    indices = malloc((size_t)width * (size_t)height);
    if (!indices) return CImageCodecs_outOfMemory;
    for (size_t i = 0; i < (size_t)width * (size_t)height; i++) {
      int found = -1;
      for (int c = 0; c < colours && found < 0; c++)
        if (memcmp(colormap + 3 * c, pixels + 3 * i, 3) == 0) found = c;
      if (found < 0) {
        if (colours == 256) { free(indices); snprintf(out->message, sizeof(out->message), "more than 256 colours"); return CImageCodecs_corrupt; }
        memcpy(colormap + 3 * colours, pixels + 3 * i, 3);
        found = colours++;
      }
      indices[i] = (uint8_t)found;
    }
    image.format = PNG_FORMAT_RGB_COLORMAP;
    image.colormap_entries = (png_uint_32)colours;
    source = indices;
  }
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, NULL, &size, 0, source, 0, palette ? colormap : NULL)) {
    snprintf(out->message, sizeof(out->message), "%s", image.message);
    free(indices);
    return CImageCodecs_corrupt;
  }
  out->bytes = malloc(size);
  if (!out->bytes) { free(indices); return CImageCodecs_outOfMemory; }
  int ok = png_image_write_to_memory(&image, out->bytes, &size, 0, source, 0, palette ? colormap : NULL);
  free(indices);
  if (!ok) {
    snprintf(out->message, sizeof(out->message), "%s", image.message);
    CImageCodecs_freeEncoded(out);
    return CImageCodecs_corrupt;
  }
  out->size = size;
  return CImageCodecs_ok;
}

void CImageCodecs_freeEncoded(CImageCodecs_Encoded *encoded) {
  free(encoded->bytes);
  encoded->bytes = NULL;
  encoded->size = 0;
}

// JPEG decoding through libjpeg with setjmp-based error recovery.
#include "CImageCodecs.h"

#include <stdio.h>  // before jpeglib.h, which uses FILE
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char *message;
  int truncated;  // libjpeg warned that the data ended early (it pads the rest with grey)
} PodiumJPEGError;

// A progressive JPEG may carry any number of scans, each a full pass over the image: a few
// kilobytes of crafted scans keep a decoder busy for minutes. Real encoders write about ten
// (libjpeg's default progression has 10, mozjpeg's up to 64); more than this is refused.
#define PODIUM_JPEG_MAX_SCANS 100

// Called by libjpeg as it reads; stops a decode whose scan count passes the limit.
static void podiumJPEGProgress(j_common_ptr cinfo) {
  j_decompress_ptr decompress = (j_decompress_ptr)cinfo;
  if (decompress->input_scan_number > PODIUM_JPEG_MAX_SCANS) {
    PodiumJPEGError *error = (PodiumJPEGError *)cinfo->err;
    snprintf(error->message, 200, "progressive JPEG with more than %d scans (refused as a decoding bomb)",
             PODIUM_JPEG_MAX_SCANS);
    longjmp(error->jump, 1);
  }
}

static void podiumJPEGErrorExit(j_common_ptr cinfo) {
  PodiumJPEGError *error = (PodiumJPEGError *)cinfo->err;
  char buffer[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buffer);
  snprintf(error->message, 200, "%s", buffer);
  longjmp(error->jump, 1);
}

// Warnings are not fatal to libjpeg. Most (extraneous bytes before a marker) leave a
// usable image; a premature end of file leaves part of it grey, so it is remembered and
// reported as a truncated file.
static void podiumJPEGWarning(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) ((PodiumJPEGError *)cinfo->err)->truncated = 1;
}

static void cmykToRGB(const uint8_t *cmyk, uint8_t *rgb, int width, int inverted) {
  for (int x = 0; x < width; x++) {
    int c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
    if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
    // Adobe writes inverted CMYK: each channel already holds 255 - ink.
    rgb[3 * x] = (uint8_t)((c * k + 127) / 255);
    rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
    rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
  }
}

static CImageCodecs_Status readPixels(struct jpeg_decompress_struct *cinfo, CImageCodecs_Image *out) {
  int width = (int)cinfo->output_width, height = (int)cinfo->output_height;
  int components = cinfo->output_components;
  out->pixels = malloc((size_t)width * (size_t)height * 3);
  if (!out->pixels) return CImageCodecs_outOfMemory;
  // From libjpeg's image pool, so that jpeg_destroy_decompress frees it even when an error
  // jumps out of jpeg_read_scanlines.
  uint8_t *row = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE, (JDIMENSION)(width * components), 1)[0];
  int inverted = cinfo->saw_Adobe_marker;
  while (cinfo->output_scanline < cinfo->output_height) {
    uint8_t *target = out->pixels + (size_t)cinfo->output_scanline * (size_t)width * 3;
    JSAMPROW rows[1] = {components == 3 ? target : row};
    jpeg_read_scanlines(cinfo, rows, 1);
    if (components == 1) {
      for (int x = 0; x < width; x++) target[3 * x] = target[3 * x + 1] = target[3 * x + 2] = row[x];
    } else if (components == 4) {
      cmykToRGB(row, target, width, inverted);
    }
  }
  out->width = width;
  out->height = height;
  return CImageCodecs_ok;
}

CImageCodecs_Status CImageCodecs_decodeJPEG(const uint8_t *data, size_t size, int scaleDenominator,
                                            size_t maxPixels, CImageCodecs_Image *out) {
  memset(out, 0, sizeof(*out));
  struct jpeg_decompress_struct cinfo;
  PodiumJPEGError error;
  cinfo.err = jpeg_std_error(&error.base);
  error.base.error_exit = podiumJPEGErrorExit;
  error.base.emit_message = podiumJPEGWarning;
  error.message = out->message;
  error.truncated = 0;
  if (setjmp(error.jump)) {
    jpeg_destroy_decompress(&cinfo);
    CImageCodecs_free(out);
    return CImageCodecs_corrupt;
  }
  jpeg_create_decompress(&cinfo);
  struct jpeg_progress_mgr progress = {.progress_monitor = podiumJPEGProgress};
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  out->sourceWidth = (int)cinfo.image_width;
  out->sourceHeight = (int)cinfo.image_height;
  if ((size_t)cinfo.image_width * (size_t)cinfo.image_height > maxPixels) {
    snprintf(out->message, sizeof(out->message), "%ux%u pixels exceeds the limit of %zu",
             cinfo.image_width, cinfo.image_height, maxPixels);
    jpeg_destroy_decompress(&cinfo);
    return CImageCodecs_tooLarge;
  }
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    cinfo.out_color_space = JCS_CMYK;
  } else if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else {
    cinfo.out_color_space = JCS_RGB;
  }
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned int)(scaleDenominator == 2 || scaleDenominator == 4 || scaleDenominator == 8
                                         ? scaleDenominator : 1);
  jpeg_start_decompress(&cinfo);
  CImageCodecs_Status status = readPixels(&cinfo, out);
  if (status == CImageCodecs_ok) jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (status == CImageCodecs_ok && error.truncated) {
    snprintf(out->message, sizeof(out->message), "premature end of JPEG data (truncated file)");
    status = CImageCodecs_corrupt;
  }
  if (status != CImageCodecs_ok) CImageCodecs_free(out);
  return status;
}

void CImageCodecs_free(CImageCodecs_Image *image) {
  free(image->pixels);
  image->pixels = NULL;
}

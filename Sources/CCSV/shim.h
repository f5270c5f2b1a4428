#ifndef PODIUM_CCSV_SHIM_H
#define PODIUM_CCSV_SHIM_H
// libcsv (Debian's libcsv-dev): a small RFC 4180 parser and writer.
#include <csv.h>
#endif

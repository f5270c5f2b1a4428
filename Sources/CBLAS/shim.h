#ifndef PODIUM_CBLAS_SHIM_H
#define PODIUM_CBLAS_SHIM_H
// OpenBLAS's CBLAS interface. Debian's libopenblas-dev installs cblas.h through the
// alternatives system (/usr/include/x86_64-linux-gnu/cblas.h); it also declares the
// OpenBLAS extensions Podium uses: openblas_set_num_threads and openblas_get_corename.
#include <cblas.h>
#endif

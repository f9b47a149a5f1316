// SPDX-License-Identifier: MIT
// OpenMP shims: code that calls these compiles and runs serially when the compiler has no OpenMP.
#pragma once

#ifdef _OPENMP
#include <omp.h>
#else
inline int omp_get_max_threads() { return 1; }
inline int omp_get_thread_num() { return 0; }
#endif

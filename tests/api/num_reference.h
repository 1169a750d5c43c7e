/* The reference printers test_num.c compares api/num.cpp against (num_reference.cpp). */
#ifndef LOSSD_TESTS_NUM_REFERENCE_H
#define LOSSD_TESTS_NUM_REFERENCE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes the shortest round-trip text of v (std::to_chars) to buf, no NUL; returns its
 * length, or 0 if cap is too small. */
size_t num_ref_format_double(double v, char *buf, size_t cap);
size_t num_ref_format_float(float v, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif

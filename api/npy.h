/* npy: NumPy's .npy file format (versions 1.0, 2.0 and 3.0), read into a tensor and written
 * back. Only what lossd computes with is read: little-endian float32, float64, int32 and
 * int64 in C order, rank at most TENSOR_MAX_RANK. Everything else (big-endian, Fortran
 * order, object or other dtypes, a truncated or padded body, a malformed header) is refused
 * with a message that says what was found and how to save a file lossd reads. */
#ifndef LOSSD_API_NPY_H
#define LOSSD_API_NPY_H

#include <stddef.h>

#include "api_error.h"
#include "tensor.h"

/* Decodes the .npy bytes buf[0..len) into *out. When the data sits at an offset aligned to
 * its element size, out borrows buf (out->owned == 0: buf must outlive out); otherwise the
 * data is copied into memory out owns. Release with tensor_release either way.
 * Returns API_OK, or an error code (invalid_binary: not a well-formed .npy; invalid_type: a
 * well-formed file lossd cannot use; out_of_memory) with a message in msg[0..cap), and *out
 * then holds nothing. */
api_code npy_decode(const void *buf, size_t len, tensor *out, char *msg, size_t cap);

/* Writes the .npy (version 1.0) header for data of `type` and `shape` into buf: magic,
 * version, length and the dict padded so that the data after it starts on a 64-byte
 * boundary. Returns the header's length, or 0 if it does not fit in cap bytes (320 always
 * suffice for rank <= TENSOR_MAX_RANK). */
size_t npy_header(tensor_type type, size_t rank, const size_t *shape, char *buf, size_t cap);

#endif

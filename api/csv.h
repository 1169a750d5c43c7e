/* csv: numbers in delimited text (.csv with ',', .tsv with tab), one row per line, read into
 * a float64 tensor. One column gives a 1-D tensor of the rows, several a 2-D (rows, columns)
 * one. A first line with no number in it is a header and is skipped. Line ends may be
 * "\n" or "\r\n"; blank lines at the end are ignored. Refused, with the line and column:
 * rows of different lengths (ragged_array), text that is no number (invalid_type), NaN and
 * infinities (non_finite, as in /v1 JSON). */
#ifndef LOSSD_API_CSV_H
#define LOSSD_API_CSV_H

#include <stddef.h>

#include "api_error.h"
#include "tensor.h"

/* Decodes text[0..len) with separator sep (',' or '\t') into *out, which then owns its data
 * (release with tensor_release). Returns API_OK, or an error code with a message in
 * msg[0..cap) (*out then holds nothing). */
api_code csv_decode(const char *text, size_t len, char sep, tensor *out, char *msg, size_t cap);

#endif

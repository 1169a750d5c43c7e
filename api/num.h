/* num: correctly rounded decimal <-> binary conversion for JSON numbers, the one place that
 * touches C++ (std::from_chars / std::to_chars of libstdc++, locale-independent). */
#ifndef LOSSD_API_NUM_H
#define LOSSD_API_NUM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NUM_OK = 0,   /* converted (an underflow rounds to a signed zero and is OK) */
    NUM_OVERFLOW, /* magnitude beyond DBL_MAX: *out is +-infinity */
    NUM_INVALID   /* not a number text at all */
} num_status;

/* Longest text num_format_* writes (no NUL): sign, 17 digits, point, exponent. */
#define NUM_FORMAT_MAX 32

/* Converts s[0..len), which the caller has already checked against the RFC 8259 number
 * grammar, to the nearest double (round-half-even). Reads exactly len bytes; s need not be
 * NUL-terminated. */
num_status num_parse_double(const char *s, size_t len, double *out);

/* Reads the RFC 8259 number at the start of s[0..avail) (it need not end there: reading stops
 * at the first byte that cannot continue it) into *out, correctly rounded, and its length
 * into *used. NUM_INVALID when the text there is not an RFC 8259 number: no digit after an
 * optional '-', a leading zero followed by a digit, a '.' not followed by a digit, NaN,
 * Infinity, '+1', hex. An underflow is a signed zero; an overflow is NUM_OVERFLOW with *out
 * +-infinity. Reads nothing beyond s[avail - 1]. */
num_status num_parse_json(const char *s, size_t avail, double *out, size_t *used);

/* Reads a run of numbers separated by single ',' bytes from the start of s[0..avail) into
 * out[0..cap), each exactly as num_parse_json reads it. It stops before the first number its
 * fast path cannot decide (one num_parse_json refuses, overflows or hands to std::from_chars:
 * the caller reads that one with num_parse_json), one that ends at s[avail] or is followed
 * by a byte that could continue a number (cut or malformed), when cap numbers are read, or
 * when the next bytes are not ',' and a digit or '-'. Returns how many numbers it read, and in
 * *used the bytes up to the end of the last of them (a ',' after it is left unread). Reads nothing
 * beyond s[avail - 1]; writes only out[0..returned). */
size_t num_parse_json_run(const char *s, size_t avail, double *out, size_t cap, size_t *used);

/* Writes the shortest text that parses back to exactly v (as a double, or for
 * num_format_float as a float) into buf, which holds NUM_FORMAT_MAX bytes. Returns the
 * length, or 0 when v is not finite (the caller prints what its format uses, e.g. null).
 * The text is valid JSON ("1e+22", "-0", "0.1"). No NUL is written. */
size_t num_format_double(double v, char *buf);
size_t num_format_float(float v, char *buf);

#ifdef __cplusplus
}
#endif

#endif

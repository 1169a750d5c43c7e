/* utf8: UTF-8 validation shared by the JSON parser and the JSON writer. */
#ifndef LOSSD_API_UTF8_H
#define LOSSD_API_UTF8_H

#include <stddef.h>

/* Length (2 to 4) of the valid multi-byte UTF-8 sequence starting at s, reading at most
 * avail bytes; 0 if it is not one (overlong forms, surrogates and code points past U+10FFFF
 * included). s[0] must be >= 0x80. */
size_t utf8_sequence_length(const unsigned char *s, size_t avail);

#endif

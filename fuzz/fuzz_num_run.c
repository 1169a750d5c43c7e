/* fuzz_num_run: num_parse_json_run against num_parse_json one number at a time. The first
 * byte is the run's capacity (0-63), the rest the text, from an allocation of exactly its
 * size. The run may stop earlier than the one-at-a-time reader (it leaves numbers its fast
 * path cannot decide to it), never later; every number it reads must be bit for bit what
 * num_parse_json reads there, and *used the end of the last of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int continues_number(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* How many numbers num_parse_json reads as a run would, with where each ends. */
static size_t one_at_a_time(const char *s, size_t avail, double *out, size_t cap, size_t *ends)
{
    size_t n = 0, pos = 0;
    while (n < cap) {
        size_t used = 0;
        if (num_parse_json(s + pos, avail - pos, &out[n], &used) != NUM_OK || pos + used == avail ||
            continues_number(s[pos + used]))
            break;
        ends[n++] = pos + used;
        pos += used;
        if (avail - pos < 2 || s[pos] != ',' ||
            !((s[pos + 1] >= '0' && s[pos + 1] <= '9') || s[pos + 1] == '-'))
            break;
        pos++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cap = data[0] % 64, avail = size - 1, used = 0, ends[64];
    double mine[64], ref[64];
    char *text = malloc(avail ? avail : 1);
    if (text == NULL)
        abort();
    memcpy(text, data + 1, avail);
    size_t want = one_at_a_time(text, avail, ref, cap, ends);
    size_t got = num_parse_json_run(text, avail, mine, cap, &used);
    free(text);
    if (got > want || used != (got ? ends[got - 1] : 0))
        abort();
    for (size_t i = 0; i < got; i++)
        if (memcmp(&mine[i], &ref[i], sizeof mine[i]) != 0)
            abort();
    return 0;
}

/* fuzz_json_stream: the incremental JSON parser against the one-shot one. The first two
 * bytes of the input seed where the rest is cut into pieces (from 1 byte to all of it); each
 * piece is fed from its own short-lived copy, so nothing may point into an earlier one. The
 * split parse must give exactly the one-shot result: the same status and error offset, or
 * the same document node for node (kinds, offsets, numbers bit for bit, strings, shapes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned seed = (unsigned)data[0] << 8 | data[1];
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    json_doc whole, split;
    json_error ew;
    json_status sw = json_doc_parse(&whole, text, len, NULL, &ew);

    json_stream *s = json_stream_new(NULL);
    if (s == NULL)
        abort();
    size_t at = 0;
    srand(seed);
    while (at < len) {
        size_t n = seed % 4 == 0 ? 1 : 1 + (size_t)rand() % (len - at < 64 ? len - at : 64);
        n = n > len - at ? len - at : n;
        char *piece = malloc(n);
        memcpy(piece, text + at, n);
        json_stream_feed(s, piece, n);
        memset(piece, 0, n);
        free(piece);
        at += n;
    }
    json_status ss = json_stream_finish(s, &split);
    if (ss != sw)
        abort();
    if (sw == JSON_OK ? !json_node_same(&whole.root, &split.root)
                      : json_stream_error(s)->offset != ew.offset)
        abort();
    json_stream_free(s);
    json_doc_release(&split);
    json_doc_release(&whole);
    return 0;
}

/* fuzz_tensor_file: libFuzzer target for the scoring CLI's file decoders. Input layout: one
 * selector byte ('n': .npy, ',': .csv, anything else: .tsv), then the file's bytes, in their
 * own exact-size allocation so ASan sees any read past them. A decoded tensor must have a
 * count equal to the product of its shape and data inside the file or owned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *file = malloc(size - 1 ? size - 1 : 1), msg[200];
    if (file == NULL)
        return 0;
    memcpy(file, data + 1, size - 1);
    tensor t;
    api_code code = data[0] == 'n' ? npy_decode(file, size - 1, &t, msg, sizeof msg)
                                   : csv_decode(file, size - 1, data[0] == ',' ? ',' : '\t', &t,
                                                msg, sizeof msg);
    if (code == API_OK) {
        size_t count = 1, bytes = 0;
        for (size_t d = 0; d < t.rank; d++)
            count *= t.shape[d];
        if (count != t.count)
            abort();
        bytes = count * tensor_type_size(t.type);
        if (!t.owned && bytes > 0 &&
            ((const char *)t.data < file || (const char *)t.data + bytes > file + size - 1))
            abort();
        volatile double sum = 0;
        for (size_t i = 0; i < t.count; i++)
            sum += tensor_get(&t, i);
        (void)sum;
        tensor_release(&t);
    } else if (memchr(msg, '\0', sizeof msg) == NULL || t.data != NULL) {
        abort();
    }
    free(file);
    return 0;
}

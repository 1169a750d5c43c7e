/* v2_binary: the wire side of /v2 tensors. The OIP datatype table, and Triton's binary tensor
 * data extension: the Inference-Header-Content-Length value, the binary tail that follows the
 * JSON header (sliced in input order, every size checked against what is left before it is
 * used), and raw little-endian tensors turned into core tensors. Knows no JSON. */
#ifndef LOSSD_API_V2_BINARY_H
#define LOSSD_API_V2_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "api_internal.h"
#include "tensor.h"

/* Every OIP datatype lossd knows the name of. Only the first four carry tensors; the others
 * are recognised so that the refusal can say "not supported" rather than "unknown". */
typedef enum {
    V2_FP32 = 0,
    V2_FP64,
    V2_INT32,
    V2_INT64,
    V2_BOOL,
    V2_UINT8,
    V2_UINT16,
    V2_UINT32,
    V2_UINT64,
    V2_INT8,
    V2_INT16,
    V2_FP16,
    V2_BF16,
    V2_BYTES,
    V2_DATATYPE_COUNT
} v2_datatype;

/* Parses an OIP datatype name (exact, case-sensitive, len bytes). Returns 0, or -1 when the
 * name is no OIP datatype. */
int v2_binary_datatype_parse(const char *name, size_t len, v2_datatype *out);

/* The OIP name of dt ("FP32"...). Static string. */
const char *v2_binary_datatype_name(v2_datatype dt);

/* Whether lossd carries tensors of dt (FP32, FP64, INT32, INT64). */
int v2_binary_datatype_supported(v2_datatype dt);

/* Core's tensor type for a supported dt; the wire datatype of a core tensor type. */
tensor_type v2_binary_tensor_type(v2_datatype dt);
v2_datatype v2_binary_datatype_of(tensor_type type);

/* Bytes per element of a supported dt (4 or 8). */
size_t v2_binary_datatype_size(v2_datatype dt);

/* Reads the Inference-Header-Content-Length value (value == NULL: the header is absent and
 * the whole body is JSON). On success *json_len is the length of the JSON header, in
 * [1, body_len]. Refuses (API_ERR_INVALID_BINARY) anything but optional blanks around 1-20
 * decimal digits, a value that overflows 64 bits, a value past the body, and 0 (Triton's raw
 * binary request, which a loss with named inputs cannot use). */
api_code v2_binary_header_len(const char *value, size_t body_len, size_t *json_len, api_err *err);

/* The binary tail: the bytes of the body after the JSON header, consumed front to back in the
 * order the JSON lists its binary tensors. Borrows the body. */
typedef struct {
    const unsigned char *at; /* next unconsumed byte */
    size_t left;             /* bytes not yet consumed */
} v2_tail;

void v2_binary_tail_init(v2_tail *tail, const char *body, size_t body_len, size_t json_len);

/* Takes `size` bytes for the tensor `name` of datatype dt and element count `count`. Checks,
 * before touching any byte, that size equals count times the element size (no overflow) and
 * that the tail still holds size bytes. *bytes then points into the body (borrowed). */
api_code v2_binary_tail_take(v2_tail *tail, const char *name, v2_datatype dt, size_t count,
                             uint64_t size, const unsigned char **bytes, api_err *err);

/* Refuses a tail with bytes that no tensor claimed. */
api_code v2_binary_tail_finish(const v2_tail *tail, api_err *err);

/* Makes *out a tensor of dt and the given shape (count elements) over little-endian bytes
 * taken from the tail. The data is borrowed in place when it is aligned for its type, else
 * copied once into an owned aligned buffer (free with tensor_release either way). Float data
 * is checked finite first: a NaN or infinity is API_ERR_NON_FINITE naming the tensor and the
 * flat index. */
api_code v2_binary_tensor(const char *name, v2_datatype dt, const size_t *shape, size_t rank,
                          size_t count, const unsigned char *bytes, tensor *out, api_err *err);

#endif

/* loss_error: how core reports a refused or failed computation.
 * Core knows no HTTP: api/ maps each code to a status and a wire code. */
#ifndef LOSSD_LOSS_ERROR_H
#define LOSSD_LOSS_ERROR_H

#include <stddef.h>

typedef enum {
    LOSS_OK = 0,
    LOSS_ERR_SHAPE,      /* shapes disagree or violate the loss's shape rule */
    LOSS_ERR_DOMAIN,     /* a value is outside the loss's domain (tensor and index named) */
    LOSS_ERR_PARAM,      /* a parameter is out of range or of the wrong kind */
    LOSS_ERR_TYPE,       /* wrong element type (e.g. non-integral class index) */
    LOSS_ERR_NON_FINITE, /* NaN or infinity in an input */
    LOSS_ERR_MISSING,    /* a required input is absent */
    LOSS_ERR_LIMIT,      /* a size limit (rank, element count) is exceeded */
    LOSS_ERR_NOMEM,      /* allocation failed */
    LOSS_ERR_WORK,       /* the shapes ask for more work or output than the limits allow */
    LOSS_ERR_CANCELLED   /* the call's cancel hook stopped it (deadline, shutdown) */
} loss_status;

typedef struct {
    loss_status status;
    char field[64]; /* offending input or parameter name; "" if none */
    char message[256];
} loss_error;

/* Fills err (printf-style message) and returns status, so that callers can
 * `return loss_error_set(err, LOSS_ERR_SHAPE, "targets", "...", ...)`. */
loss_status loss_error_set(loss_error *err, loss_status status, const char *field, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));

#endif

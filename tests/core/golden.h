/* golden: runs PyTorch golden fixtures (tests/fixtures/<loss>.json) straight through core.
 * Each case's `request` (a /v1 body) becomes a loss_call; results are compared with `expect`
 * at rtol 1e-12 (float64) or 1e-5 (float32), on every ISA path this CPU has. Cases whose
 * expected error only the api layer can raise (unknown_field, invalid_json, ...) are left to
 * the api tests. */
#ifndef LOSSD_TEST_GOLDEN_H
#define LOSSD_TEST_GOLDEN_H

#include <stddef.h>

/* Runs every case of the loss's fixture file; fails the current test on any mismatch or if
 * the file is missing. Returns the number of cases checked. */
int golden_run_file(const char *loss);

/* Checks the gradient of every case marked "fd": true (float64) by central finite
 * differences of the returned value. Returns the number of gradient elements checked. */
int golden_fd_file(const char *loss);

/* For every case, on the calling thread and on a pool of `threads` workers (0: none): the
 * plan-only cost pass allocates nothing and agrees with loss_compute (it fails exactly when
 * loss_compute fails on shapes or parameters), and loss_compute allocates at most cost.bytes
 * and returns at most cost.output elements. Returns the number of cases checked. */
int golden_cost_file(const char *loss, size_t threads);

#endif

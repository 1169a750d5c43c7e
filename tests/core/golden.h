/* golden: runs PyTorch golden fixtures (tests/fixtures/<loss>.json) straight through core.
 * Each case's `request` (a /v1 body) becomes a loss_call; results are compared with `expect`
 * at rtol 1e-12 (float64) or 1e-5 (float32), on every ISA path this CPU has. Cases whose
 * expected error only the api layer can raise (unknown_field, invalid_json, ...) are left to
 * the api tests. */
#ifndef LOSSD_TEST_GOLDEN_H
#define LOSSD_TEST_GOLDEN_H

/* Runs every case of the loss's fixture file; fails the current test on any mismatch or if
 * the file is missing. Returns the number of cases checked. */
int golden_run_file(const char *loss);

/* Checks the gradient of every case marked "fd": true (float64) by central finite
 * differences of the returned value. Returns the number of gradient elements checked. */
int golden_fd_file(const char *loss);

#endif

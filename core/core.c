/* core: process-wide set-up of the compute core. Everything here is written before threads
 * that compute start, and only read afterwards. */
#include "core.h"

#include "kern.h"

/* Declared by OpenBLAS's cblas.h, but not by every cblas.h. */
void openblas_set_num_threads(int num_threads);

int core_init(const char *isa)
{
    int rc = kern_init(isa);
    /* The worker pool decides parallelism; OpenBLAS threads would oversubscribe it (and a
     * GEMM split differently per call would no longer give the same bytes for any worker
     * count). */
    openblas_set_num_threads(1);
    return rc;
}

const char *core_isa_name(void)
{
    return kern_isa_name(kern_get()->isa);
}

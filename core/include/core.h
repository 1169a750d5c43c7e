/* core: the one start-up of lossd's compute core, for every program that links it (the
 * daemon, benches, tests). It chooses the kernels' instruction set and holds OpenBLAS to one
 * thread (the worker pool owns parallelism), both process-wide and read-only afterwards. */
#ifndef LOSSD_CORE_H
#define LOSSD_CORE_H

/* Configures the core: `isa` ("ref", "avx2", "avx512") forces a kernel path, NULL or "" picks
 * the best this CPU runs. Call before starting threads that compute; calling it again
 * (tests switching paths) is allowed while nothing computes. Returns 0, or -1 when the CPU
 * lacks the forced ISA (the best available path is then in place). */
int core_init(const char *isa);

/* The name of the kernel path in use ("ref", "avx2", "avx512"); a static string. */
const char *core_isa_name(void);

#endif

/* kern_avx2_vm: the AVX2+FMA fast paths built on vector exp/log (vmath_avx2.h): the vector
 * math over arrays, the elementwise losses with transcendentals, and cross-entropy rows.
 * Compiled with -mavx2 -mfma only. Every loss computes in double lanes, float32 included
 * (converted on load, rounded once on store), and declines (KERN_DECLINED) on any element the
 * reference must judge: non-finite or out-of-domain inputs, or a sum that is not finite. */
#include <immintrin.h>
#include <math.h>

#include "kern.h"
#include "vmath_avx2.h"

#define KERN_INLINE static inline __attribute__((always_inline))

/* Lanes [0, r) of 4 set (r may exceed 4). */
static __m256i tail_mask(size_t r)
{
    long long k = r > 4 ? 4 : (long long)r;
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* ---- vector math over arrays ---- */

#define VM_ARRAY(name, fn)                                                                         \
    static void name(const double *x, double *out, size_t n)                                       \
    {                                                                                              \
        size_t i = 0;                                                                              \
        for (; i + 4 <= n; i += 4)                                                                 \
            _mm256_storeu_pd(out + i, fn(_mm256_loadu_pd(x + i)));                                 \
        if (i < n) {                                                                               \
            __m256i m = tail_mask(n - i);                                                          \
            _mm256_maskstore_pd(out + i, m, fn(_mm256_maskload_pd(x + i, m)));                     \
        }                                                                                          \
    }

VM_ARRAY(vm_exp_array, vm4_exp)
VM_ARRAY(vm_expm1_array, vm4_expm1)
VM_ARRAY(vm_log_array, vm4_log)
VM_ARRAY(vm_log1p_array, vm4_log1p)

void kern_avx2_vm_fill(kern_table *t)
{
    t->vm[KERN_VM_EXP] = vm_exp_array;
    t->vm[KERN_VM_EXPM1] = vm_expm1_array;
    t->vm[KERN_VM_LOG] = vm_log_array;
    t->vm[KERN_VM_LOG1P] = vm_log1p_array;
}

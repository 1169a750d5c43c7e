/* kern_avx512_vm: the AVX-512 fast paths built on vector exp/log (vmath_avx512.h), the same
 * steps as kern_avx2_vm.c on 8 double lanes with mask registers: the vector math over
 * arrays, the elementwise losses with transcendentals, and cross-entropy rows. Compiled with
 * the AVX-512 flags only. Every loss computes in double lanes (float32 converted on load and
 * rounded once on store) and declines on any element the reference must judge. */
#include <immintrin.h>
#include <math.h>

#include "kern.h"
#include "vmath_avx512.h"

#define KERN_INLINE static inline __attribute__((always_inline))

/* Lanes [0, r) of 8 set (r may exceed 8). */
static __mmask8 tail_mask(size_t r) { return r >= 8 ? 0xff : (__mmask8)((1u << r) - 1); }

/* ---- vector math over arrays ---- */

#define VM_ARRAY(name, fn)                                                                         \
    static void name(const double *x, double *out, size_t n)                                       \
    {                                                                                              \
        size_t i = 0;                                                                              \
        for (; i + 8 <= n; i += 8)                                                                 \
            _mm512_storeu_pd(out + i, fn(_mm512_loadu_pd(x + i)));                                 \
        if (i < n) {                                                                               \
            __mmask8 m = tail_mask(n - i);                                                         \
            _mm512_mask_storeu_pd(out + i, m, fn(_mm512_maskz_loadu_pd(m, x + i)));                \
        }                                                                                          \
    }

VM_ARRAY(vm_exp_array, vm8_exp)
VM_ARRAY(vm_expm1_array, vm8_expm1)
VM_ARRAY(vm_log_array, vm8_log)
VM_ARRAY(vm_log1p_array, vm8_log1p)

void kern_avx512_vm_fill(kern_table *t)
{
    t->vm[KERN_VM_EXP] = vm_exp_array;
    t->vm[KERN_VM_EXPM1] = vm_expm1_array;
    t->vm[KERN_VM_LOG] = vm_log_array;
    t->vm[KERN_VM_LOG1P] = vm_log1p_array;
}

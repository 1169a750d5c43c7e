/* vec: the lanes the fast kernels are written on, for the ISA the including file is compiled
 * for (VEC_ISA, set per object by the build: VEC_ISA_AVX2 or VEC_ISA_AVX512).
 * Two lane types, one name for each operation on either: vd (VD_N doubles, masks vdm) and
 * vf (VF_N floats, masks vfm), with vd_add / vf_add, vd_cmp / vf_cmp, ... The ISA header
 * (vec_avx2.h, vec_avx512.h) holds only what that ISA does its own way (masks, tails,
 * rounding, reductions, exponent work, gathers) and the names of its intrinsics (VEC_PD,
 * VEC_PS, VEC_HPS); the regular operations are built here once from those names.
 * Code written once for both lane types uses the v_ names (v_add, v_cmp, ...), bound to the
 * lane type of the moment by VL: `#define VL(op) vd_##op` or `vf_##op`. */
#ifndef LOSSD_VEC_H
#define LOSSD_VEC_H

#define VEC_ISA_AVX2 1
#define VEC_ISA_AVX512 2

/* Per ISA: register bits, the intrinsics of VD_N floats (a narrower register), the mask
 * types (AVX2: lanes all ones or zero in vector registers; AVX-512: mask registers), the
 * header of what it does its own way, and the names it exports. */
#if VEC_ISA == VEC_ISA_AVX2
#define VEC_W 256
#define VEC_HPS(op) _mm_##op##_ps
#define VEC_MASK_D __m256d
#define VEC_MASK_F __m256
#define VEC_SEL(S, m, a, b) S(blendv)(b, a, m)
#define VEC_HEADER "vec_avx2.h"
#define VEC_NAME(name) kern_avx2_##name
#elif VEC_ISA == VEC_ISA_AVX512
#define VEC_W 512
#define VEC_HPS(op) _mm256_##op##_ps
#define VEC_MASK_D __mmask8
#define VEC_MASK_F __mmask16
#define VEC_SEL(S, m, a, b) S(mask_mov)(b, m, a)
#define VEC_HEADER "vec_avx512.h"
#define VEC_NAME(name) kern_avx512_##name
#else
#error "vec.h: compile with -DVEC_ISA=VEC_ISA_AVX2 or -DVEC_ISA=VEC_ISA_AVX512"
#endif

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define VEC_INLINE static inline __attribute__((always_inline))

/* The register width names the types and intrinsics: __m256d, _mm256_add_pd, ... */
#define VEC_CAT2_(a, b) a##b
#define VEC_CAT2(a, b) VEC_CAT2_(a, b)
#define VEC_CAT3_(a, b, c) a##b##c
#define VEC_CAT3(a, b, c) VEC_CAT3_(a, b, c)
#define VEC_PD(op) VEC_CAT3(_mm, VEC_W, _##op##_pd)
#define VEC_PS(op) VEC_CAT3(_mm, VEC_W, _##op##_ps)

typedef VEC_CAT3(__m, VEC_W, d) vd; /* VD_N doubles */
typedef VEC_CAT3(__m, VEC_W, ) vf;  /* VF_N floats */
typedef VEC_CAT3(__m, VEC_W, i) vq; /* VD_N int64: class indices */
typedef VEC_MASK_D vdm;             /* a mask of vd lanes */
typedef VEC_MASK_F vfm;
#define VD_N (VEC_W / 64)
#define VF_N (VEC_W / 32)

#include VEC_HEADER

/* ---- the regular operations, for both lane types ---- */

/* The operations on lanes T whose intrinsics S names (T_add(a, b) is S(add)(a, b), ...), a
 * table of one-liners: fmadd(a, b, c) = a b + c and fnmadd = c - a b, rounded once; max and
 * min return the second operand when either is NaN; and/or are bitwise; sel(m, a, b) is
 * m ? a : b, maskz(m, v) is m ? v : 0; many/mall: any or all lanes of a mask set. */
/* clang-format off */
#define VEC_OP2(T, S, op) VEC_INLINE T T##_##op(T a, T b) { return S(op)(a, b); }
#define VEC_OP3(T, S, op) VEC_INLINE T T##_##op(T a, T b, T c) { return S(op)(a, b, c); }
#define VEC_OPS(T, S, E)                                                                           \
    VEC_OP2(T, S, add) VEC_OP2(T, S, sub) VEC_OP2(T, S, mul) VEC_OP2(T, S, div)                    \
    VEC_OP2(T, S, max) VEC_OP2(T, S, min) VEC_OP2(T, S, and) VEC_OP2(T, S, or)                     \
    VEC_OP3(T, S, fmadd) VEC_OP3(T, S, fnmadd)                                                     \
    VEC_INLINE T T##_set1(double v) { return S(set1)((E)v); }                                    \
    VEC_INLINE T T##_zero(void) { return S(setzero)(); }                                         \
    VEC_INLINE T T##_loadu(const E *p) { return S(loadu)(p); }                                   \
    VEC_INLINE void T##_storeu(E *p, T v) { S(storeu)(p, v); }                                   \
    VEC_INLINE T T##_abs(T x) { return S(andnot)(S(set1)((E)-0.0), x); }                         \
    VEC_INLINE T T##_neg(T x) { return S(sub)(S(setzero)(), x); }                                \
    VEC_INLINE T T##_sel(T##m m, T a, T b) { return VEC_SEL(S, m, a, b); }                       \
    VEC_INLINE T T##_maskz(T##m m, T v) { return T##_sel(m, v, S(setzero)()); }                  \
    VEC_INLINE int T##_many(T##m m) { return T##_mbits(m) != 0; }                                \
    VEC_INLINE int T##_mall(T##m m) { return T##_mbits(m) == (int)((1u << T##_N) - 1); }
/* clang-format on */

#define vd_N VD_N
#define vf_N VF_N
VEC_OPS(vd, VEC_PD, double)
VEC_OPS(vf, VEC_PS, float)

/* VD_N floats widened to doubles, and VD_N doubles rounded to floats (tails: lanes [0, r)). */
VEC_INLINE vd vd_load_f32(const float *p)
{
    return VEC_PD(cvtps)(VEC_HPS(loadu)(p));
}
VEC_INLINE vd vd_load_f32_tail(const float *p, size_t r)
{
    return VEC_PD(cvtps)(vec_half_load_tail(p, r));
}
VEC_INLINE void vd_store_f32(float *p, vd v)
{
    VEC_HPS(storeu)(p, VEC_PS(cvtpd)(v));
}
VEC_INLINE void vd_store_f32_tail(float *p, size_t r, vd v)
{
    vec_half_store_tail(p, r, VEC_PS(cvtpd)(v));
}

/* ---- names for code written once for either lane type (bound through VL) ---- */

#define v_set1 VL(set1)
#define v_zero VL(zero)
#define v_loadu VL(loadu)
#define v_storeu VL(storeu)
#define v_load_tail VL(load_tail)
#define v_store_tail VL(store_tail)
#define v_add VL(add)
#define v_sub VL(sub)
#define v_mul VL(mul)
#define v_div VL(div)
#define v_fmadd VL(fmadd)
#define v_fnmadd VL(fnmadd)
#define v_max VL(max)
#define v_min VL(min)
#define v_and VL(and)
#define v_or VL(or)
#define v_abs VL(abs)
#define v_neg VL(neg)
#define v_round VL(round)
#define v_cmp VL(cmp)
#define v_sel VL(sel)
#define v_maskz VL(maskz)
#define v_mor VL(mor)
#define v_mand VL(mand)
#define v_mnone VL(mnone)
#define v_many VL(many)
#define v_mall VL(mall)
#define v_tmask VL(tmask)

#endif

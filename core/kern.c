/* kern: one-time ISA choice. The table is written only by kern_init, before threads start,
 * and read-only afterwards. */
#include "kern.h"

#include <math.h>
#include <string.h>

/* The reference vector math: libm, one element at a time. */
#define KERN_REF_VM(name, fn)                                \
    static void name(const double *x, double *out, size_t n) \
    {                                                        \
        for (size_t i = 0; i < n; i++)                       \
            out[i] = fn(x[i]);                               \
    }
KERN_REF_VM(ref_exp, exp)
KERN_REF_VM(ref_expm1, expm1)
KERN_REF_VM(ref_log, log)
KERN_REF_VM(ref_log1p, log1p)

static double log1m(double x)
{
    return log1p(-x);
}
KERN_REF_VM(ref_log1m, log1m)

/* The float forms: libm's double result, rounded. */
#define KERN_REF_VMF(name, fn)                             \
    static void name(const float *x, float *out, size_t n) \
    {                                                      \
        for (size_t i = 0; i < n; i++)                     \
            out[i] = (float)fn((double)x[i]);              \
    }
KERN_REF_VMF(ref_expf, exp)
KERN_REF_VMF(ref_expm1f, expm1)
KERN_REF_VMF(ref_logf, log)
KERN_REF_VMF(ref_log1pf, log1p)
KERN_REF_VMF(ref_log1mf, log1m)

/* libm, one element at a time, for both double tiers. */
#define KERN_REF_VM_ENTRIES                                                                  \
    [KERN_VM_EXP] = ref_exp, [KERN_VM_EXPM1] = ref_expm1, [KERN_VM_LOG] = ref_log,           \
    [KERN_VM_LOG1P] = ref_log1p, [KERN_VM_LOG1P_01] = ref_log1p, [KERN_VM_LOG_01] = ref_log, \
    [KERN_VM_LOG1M_01] = ref_log1m

/* No fast paths. */
static const kern_table reference = {
    .vm = {KERN_REF_VM_ENTRIES},
    .vm_lite = {KERN_REF_VM_ENTRIES},
    .vm_f32 = {[KERN_VM_EXP] = ref_expf,
               [KERN_VM_EXPM1] = ref_expm1f,
               [KERN_VM_LOG] = ref_logf,
               [KERN_VM_LOG1P] = ref_log1pf,
               [KERN_VM_LOG1P_01] = ref_log1pf,
               [KERN_VM_LOG_01] = ref_logf,
               [KERN_VM_LOG1M_01] = ref_log1mf},
};

static kern_table table; /* served once `filled`; the reference before */
static int filled;

const char *kern_isa_name(kern_isa isa)
{
    static const char *const names[] = {"ref", "avx2", "avx512"};
    return names[isa];
}

int kern_isa_supported(kern_isa isa)
{
    __builtin_cpu_init();
    switch (isa) {
    case KERN_ISA_REF:
        return 1;
    case KERN_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KERN_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return 0;
}

static void fill(kern_isa isa)
{
    table = reference;
    filled = 1;
    table.isa = isa;
    if (isa == KERN_ISA_AVX2)
        kern_avx2_fill(&table);
    else if (isa == KERN_ISA_AVX512)
        kern_avx512_fill(&table);
}

int kern_init(const char *forced)
{
    kern_isa best = kern_isa_supported(KERN_ISA_AVX512) ? KERN_ISA_AVX512
                    : kern_isa_supported(KERN_ISA_AVX2) ? KERN_ISA_AVX2
                                                        : KERN_ISA_REF;
    if (forced == NULL || forced[0] == '\0') {
        fill(best);
        return 0;
    }
    for (int isa = KERN_ISA_REF; isa <= KERN_ISA_AVX512; isa++) {
        if (strcmp(forced, kern_isa_name((kern_isa)isa)) == 0 &&
            kern_isa_supported((kern_isa)isa)) {
            fill((kern_isa)isa);
            return 0;
        }
    }
    fill(best);
    return -1;
}

const kern_table *kern_get(void)
{
    return filled ? &table : &reference;
}

/* alpha_t = a y + b (1 - y) + c: alpha's weighting, or exactly 1 when alpha < 0 disables it. */
static void focal_constants(const double *param, double out[KERN_N_CONSTANTS])
{
    double alpha = param[0];
    out[0] = alpha >= 0.0 ? alpha : 0.0;
    out[1] = alpha >= 0.0 ? 1.0 - alpha : 0.0;
    out[2] = alpha >= 0.0 ? 0.0 : 1.0;
    out[3] = param[1]; /* gamma */
}

void kern_step_constants(kern_id id, double scale, const double *param,
                         double out[KERN_N_CONSTANTS])
{
    double x = param ? param[0] : 0.0;
    out[0] = out[1] = out[2] = out[3] = 0.0;
    switch (id) {
    case KERN_MSE: /* a = 2s */
        out[0] = 2.0 * scale;
        break;
    case KERN_MBE: /* a = -s */
    case KERN_HINGE:
        out[0] = -scale;
        break;
    case KERN_SQUARED_HINGE: /* a = -2s */
        out[0] = -2.0 * scale;
        break;
    case KERN_HUBER: /* a = delta, b = delta/2, c = delta*s */
        out[0] = x, out[1] = 0.5 * x, out[2] = x * scale;
        break;
    case KERN_SMOOTH_L1: /* a = beta, b = beta/2, c = 0.5/beta; beta = 0 never uses c */
        out[0] = x, out[1] = 0.5 * x, out[2] = x > 0.0 ? 0.5 / x : 0.0;
        break;
    case KERN_FOCAL: /* param = alpha, gamma */
    case KERN_SIGMOID_FOCAL:
        focal_constants(param, out);
        break;
    case KERN_NONE:
    case KERN_MAE:
    case KERN_BCE:
    case KERN_BCE_WITH_LOGITS:
    case KERN_LOG_COSH:
    case KERN_SOFT_MARGIN:
    case KERN_CROSS_ENTROPY:
    case KERN_COUNT:
        break;
    }
}

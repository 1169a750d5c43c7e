/* num: shortest printing parses back to the same bits (doubles and floats), and parsing is
 * correctly rounded, with overflow reported and underflow rounded to zero. Printing (Schubfach)
 * must agree byte for byte with libstdc++'s std::to_chars (num_reference.cpp). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "num_reference.h"

/* xorshift64*: reproducible bit patterns covering every exponent. */
static uint64_t next_bits(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static double parse(const char *s)
{
    double v = NAN;
    cr_assert_eq(num_parse_double(s, strlen(s), &v), NUM_OK, "%s parses", s);
    return v;
}

Test(num, printed_doubles_should_parse_back_to_identical_bits)
{
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    char buf[NUM_FORMAT_MAX];
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next_bits(&seed);
        double v, back = 0;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        size_t n = num_format_double(v, buf);
        cr_assert(n > 0 && n <= NUM_FORMAT_MAX);
        cr_assert_eq(num_parse_double(buf, n, &back), NUM_OK, "%.*s", (int)n, buf);
        cr_assert(memcmp(&v, &back, sizeof v) == 0, "%.*s", (int)n, buf);
    }
}

Test(num, printed_floats_should_parse_back_to_identical_float_bits)
{
    uint64_t seed = 12345;
    char buf[NUM_FORMAT_MAX];
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)next_bits(&seed);
        float v;
        double back = 0;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        size_t n = num_format_float(v, buf);
        cr_assert(n > 0);
        cr_assert_eq(num_parse_double(buf, n, &back), NUM_OK);
        float f = (float)back;
        cr_assert(memcmp(&v, &f, sizeof v) == 0, "%.*s", (int)n, buf);
    }
}

Test(num, float_results_should_print_in_their_own_shortest_form)
{
    char buf[NUM_FORMAT_MAX];
    size_t n = num_format_float(0.1f, buf);
    cr_assert_eq(n, 3);
    cr_assert(memcmp(buf, "0.1", 3) == 0);
}

Test(num, non_finite_values_should_print_nothing_so_the_caller_writes_null)
{
    char buf[NUM_FORMAT_MAX];
    cr_assert_eq(num_format_double(NAN, buf), 0);
    cr_assert_eq(num_format_double(INFINITY, buf), 0);
    cr_assert_eq(num_format_float(-INFINITY, buf), 0);
}

Test(num, parsing_should_be_correctly_rounded_at_halfway_cases)
{
    /* 2^53 + 1 is halfway between two doubles: ties to even. */
    cr_assert_eq(parse("9007199254740993"), 9007199254740992.0);
    cr_assert_eq(parse("9007199254740995"), 9007199254740996.0);
    cr_assert_eq(parse("0.1"), 0.1);
    cr_assert_eq(parse("2.2250738585072014e-308"), 2.2250738585072014e-308);
    cr_assert_eq(parse("4.9406564584124654e-324"), 4.9406564584124654e-324);
}

Test(num, overflow_should_report_infinity_with_its_sign)
{
    double v = 0;
    cr_assert_eq(num_parse_double("1e400", 5, &v), NUM_OVERFLOW);
    cr_assert(isinf(v) && v > 0);
    cr_assert_eq(num_parse_double("-123456e999", 11, &v), NUM_OVERFLOW);
    cr_assert(isinf(v) && v < 0);
}

Test(num, underflow_should_round_to_a_signed_zero)
{
    double v = 1;
    cr_assert_eq(num_parse_double("1e-400", 6, &v), NUM_OK);
    cr_assert(v == 0 && !signbit(v));
    cr_assert_eq(num_parse_double("-0.000001e-330", 14, &v), NUM_OK);
    cr_assert(v == 0 && signbit(v));
}

Test(num, parsing_should_read_exactly_len_bytes)
{
    double v = 0;
    cr_assert_eq(num_parse_double("1.5xyz", 3, &v), NUM_OK);
    cr_assert_eq(v, 1.5);
    cr_assert_eq(num_parse_double("1.5x", 4, &v), NUM_INVALID);
}

static num_status json_num(const char *s, double *v, size_t *used)
{
    return num_parse_json(s, strlen(s), v, used);
}

Test(num, json_numbers_should_follow_the_rfc_grammar_exactly)
{
    const char *bad[] = {"-inf", "inf", "nan", "-nan", "Infinity", "+1", "-.5", ".5", "01",
                         "-01",  "00",  "1.",  "1.e5", "0.e1",     "-",  "",    "e5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        size_t used;
        cr_assert_eq(json_num(bad[i], &v, &used), NUM_INVALID, "refuses '%s'", bad[i]);
    }
    struct {
        const char *text;
        size_t used;
        double value;
    } good[] = {{"0", 1, 0},          {"-0.5", 4, -0.5}, {"1e5x", 3, 1e5}, {"1E+2,", 4, 100},
                {"2.5e-1]", 6, 0.25}, {"1e", 1, 1},      {"1e+", 1, 1},    {"0 1", 1, 0},
                {"12.75", 5, 12.75},  {"0x10", 1, 0}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double v = NAN;
        size_t used = 0;
        cr_assert_eq(json_num(good[i].text, &v, &used), NUM_OK, "accepts '%s'", good[i].text);
        cr_assert_eq(used, good[i].used, "'%s' is %zu bytes", good[i].text, good[i].used);
        cr_assert_eq(v, good[i].value, "'%s'", good[i].text);
    }
}

Test(num, json_numbers_should_never_read_past_avail)
{
    double v = 0;
    size_t used = 0;
    cr_assert_eq(num_parse_json("123456", 3, &v, &used), NUM_OK);
    cr_assert_eq(used, 3);
    cr_assert_eq(v, 123.0);
    cr_assert_eq(num_parse_json("1.5", 2, &v, &used), NUM_INVALID); /* "1." */
}

static void print_like_to_chars(double v)
{
    char mine[NUM_FORMAT_MAX], ref[64];
    size_t n = num_format_double(v, mine), m = num_ref_format_double(v, ref, sizeof ref);
    cr_assert(n == m && memcmp(mine, ref, n) == 0, "%a: '%.*s', std::to_chars '%.*s'", v, (int)n,
              mine, (int)m, ref);
}

Test(num, double_printing_should_match_std_to_chars_byte_for_byte)
{
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next_bits(&seed);
        double v, unit = (double)(next_bits(&seed) >> 11) / 9007199254740992.0;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v))
            print_like_to_chars(v);
        /* the values replies carry: magnitudes around 1, fixed and scientific forms */
        print_like_to_chars(unit * pow(10, (int)(next_bits(&seed) % 60) - 30));
        print_like_to_chars((float)unit);
    }
    for (int e = -1074; e <= 1023; e++) { /* powers of two: lopsided rounding intervals */
        double p = ldexp(1, e);
        print_like_to_chars(p);
        print_like_to_chars(nextafter(p, 0));
        print_like_to_chars(-nextafter(p, INFINITY));
    }
    for (int e = -323; e <= 308; e++) { /* powers of ten and their neighbours */
        char text[16];
        snprintf(text, sizeof text, "1e%d", e);
        double p = strtod(text, NULL);
        print_like_to_chars(p);
        print_like_to_chars(nextafter(p, 0));
        print_like_to_chars(nextafter(p, INFINITY));
    }
    for (int i = 0; i < 20000; i++) { /* integers, exact and padded, and short decimals */
        print_like_to_chars(i);
        print_like_to_chars(i * 1e5);
        print_like_to_chars(i / 1000.0);
        print_like_to_chars(ldexp(i + 1, 60)); /* exact integers up to 10^22 print in full */
    }
    print_like_to_chars(-0.0);
    print_like_to_chars(DBL_MAX);
    print_like_to_chars(DBL_TRUE_MIN);
}

static void print_float_like_to_chars(float v)
{
    char mine[NUM_FORMAT_MAX], ref[64];
    size_t n = num_format_float(v, mine), m = num_ref_format_float(v, ref, sizeof ref);
    cr_assert(n == m && memcmp(mine, ref, n) == 0, "%a: '%.*s', std::to_chars '%.*s'", (double)v,
              (int)n, mine, (int)m, ref);
}

Test(num, float_printing_should_match_std_to_chars_byte_for_byte)
{
    uint64_t seed = 77;
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)next_bits(&seed);
        float v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v))
            print_float_like_to_chars(v);
    }
    for (int e = -149; e <= 127; e++) {
        float p = ldexpf(1, e);
        print_float_like_to_chars(p);
        print_float_like_to_chars(nextafterf(p, 0));
        print_float_like_to_chars(nextafterf(p, INFINITY));
    }
    print_float_like_to_chars(FLT_MAX);
    print_float_like_to_chars(33565872.0f); /* printed exactly, not as 33565870 */
}

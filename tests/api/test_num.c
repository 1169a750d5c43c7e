/* num: shortest printing parses back to the same bits (doubles and floats), and parsing is
 * correctly rounded, with overflow reported and underflow rounded to zero. Printing (Schubfach)
 * must agree byte for byte with libstdc++'s std::to_chars (num_reference.cpp). */
#include <criterion/criterion.h>
#include <ctype.h>
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

/* num_parse_json's own reader against std::from_chars (num_parse_double) on the same bytes. */
static void json_like_from_chars(const char *text)
{
    double mine = NAN, ref = NAN;
    size_t used = 0, n = strlen(text);
    num_status st = num_parse_json(text, n, &mine, &used);
    if (st == NUM_INVALID)
        return;
    cr_assert_eq(num_parse_double(text, used, &ref), st, "'%s'", text);
    cr_assert(memcmp(&mine, &ref, sizeof mine) == 0, "'%s': %a, std::from_chars %a", text, mine,
              ref);
}

Test(num, json_numbers_should_parse_exactly_as_std_from_chars)
{
    uint64_t seed = 0x1F83D9ABFB41BD6Bull;
    char text[64];
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next_bits(&seed);
        double v, unit = (double)(next_bits(&seed) >> 11) / 9007199254740992.0;
        int digits = 1 + (int)(next_bits(&seed) % 19);
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v)) {
            snprintf(text, sizeof text, "%.*g", digits, v);
            json_like_from_chars(text);
            snprintf(text, sizeof text, "%.*e,", digits, v);
            json_like_from_chars(text);
        }
        snprintf(text, sizeof text, "%.*g]", digits, unit * pow(10, (int)(bits % 50) - 25));
        json_like_from_chars(text);
        snprintf(text, sizeof text, "%.17g", (double)(float)unit);
        json_like_from_chars(text);
        /* exact midpoints between two doubles, and their neighbours: ties to even */
        uint64_t mid = ((next_bits(&seed) >> 11) | (1ull << 52)) * 2 + 1;
        mid <<= next_bits(&seed) % 10;
        for (int d = -1; d <= 1; d++) {
            snprintf(text, sizeof text, "%llu", (unsigned long long)(mid + (uint64_t)d));
            json_like_from_chars(text);
            size_t len = strlen(text), point = 1 + next_bits(&seed) % (len - 1);
            memmove(text + point + 1, text + point, len - point + 1); /* the same digits / 10^k */
            text[point] = '.';
            json_like_from_chars(text);
        }
    }
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

/* One number at a time with num_parse_json, as a run reads them: where each ends, and how
 * many there are before one that is not ordinary, cut, or followed by a non-',' byte. */
static size_t run_like_one_at_a_time(const char *s, size_t avail, double *out, size_t cap,
                                     size_t *ends)
{
    size_t n = 0, pos = 0;
    while (n < cap) {
        size_t used = 0;
        if (num_parse_json(s + pos, avail - pos, &out[n], &used) != NUM_OK || pos + used == avail ||
            strchr("0123456789+-.eE", s[pos + used]) != NULL)
            break;
        ends[n++] = pos + used;
        pos += used;
        if (avail - pos < 2 || s[pos] != ',' ||
            !(isdigit((unsigned char)s[pos + 1]) || s[pos + 1] == '-'))
            break;
        pos++;
    }
    return n;
}

/* The run reads from an allocation of exactly avail bytes, so ASan sees any read past it. */
static size_t run_like_one_at_a_time_check(const char *text, size_t cap, size_t *want_out)
{
    size_t avail = strlen(text), used = 7, ends[64];
    double mine[64], ref[64];
    char *copy = malloc(avail ? avail : 1);
    cr_assert_not_null(copy);
    memcpy(copy, text, avail);
    size_t want = run_like_one_at_a_time(copy, avail, ref, cap, ends);
    size_t got = num_parse_json_run(copy, avail, mine, cap, &used);
    free(copy);
    cr_assert_leq(got, want, "'%s': %zu numbers, one at a time %zu", text, got, want);
    cr_assert_eq(used, got ? ends[got - 1] : 0, "'%s': %zu bytes read", text, used);
    for (size_t i = 0; i < got; i++)
        cr_assert(memcmp(&mine[i], &ref[i], sizeof mine[i]) == 0, "'%s' #%zu: %a, alone %a", text,
                  i, mine[i], ref[i]);
    if (want_out)
        *want_out = want;
    return got;
}

Test(num, json_runs_should_read_each_number_as_num_parse_json_does)
{
    const char *edges[] = {"",
                           "1",
                           "1,",
                           "1,2",
                           "1,2]",
                           "1,2,]",
                           "-0,0,-0.0]",
                           "1,,2]",
                           "1, 2]",
                           "01,2]",
                           "1,01]",
                           "1,2.]",
                           "1,2e]",
                           "1,2e+]",
                           "1e400,2]",
                           "2,1e400]",
                           "1e-400,1]",
                           "1,-]",
                           "1.5,-2.5",
                           "1.5,-2.5x",
                           "1.5,-2.5.",
                           "0.1,0.2,0.3 ,0.4]",
                           "12345678901234567890123,1]",
                           "1,12345678901234567890123]",
                           "1,+2]",
                           "1,.5]"};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        for (size_t cap = 0; cap <= 4; cap++)
            run_like_one_at_a_time_check(edges[i], cap, NULL);
    uint64_t seed = 0x5DEECE66Dull;
    size_t run_got = 0, run_want = 0;
    char text[64 * 40];
    for (int i = 0; i < 20000; i++) {
        size_t len = 0, count = 1 + next_bits(&seed) % 60;
        int ordinary = 1;
        for (size_t j = 0; j < count; j++) {
            uint64_t bits = next_bits(&seed), kind = next_bits(&seed) % 8;
            double unit = (double)(next_bits(&seed) >> 11) / 9007199254740992.0, v;
            int digits = 1 + (int)(next_bits(&seed) % 19);
            memcpy(&v, &bits, sizeof v);
            if (j > 0)
                text[len++] = ',';
            if (kind == 0 && isfinite(v)) { /* any exponent, sometimes past the fast path */
                len += (size_t)snprintf(text + len, 40, "%.*g", digits, v);
                ordinary = 0;
            } else if (kind == 1) {
                len += (size_t)snprintf(text + len, 40, "%.*e", digits, -unit);
                ordinary &= digits < 19; /* %e: one digit more than its precision */
            } else if (kind == 2) {
                len += (size_t)snprintf(text + len, 40, "%.*g", digits,
                                        unit * pow(10, (int)(bits % 40) - 20));
            } else if (kind == 3) { /* float32 data exactly: the fast path leaves it alone */
                len += (size_t)snprintf(text + len, 40, "%.17g", (double)(float)unit);
                ordinary = 0;
            } else { /* what clients send: float32 data printed as the shortest doubles */
                len += num_format_double((double)(float)unit, text + len);
            }
        }
        text[len] = '\0';
        size_t cut = next_bits(&seed) % 4 == 0 ? next_bits(&seed) % (len + 1) : len;
        text[cut] = '\0';
        size_t want = 0, got = run_like_one_at_a_time_check(text, 64, &want);
        if (ordinary && cut == len) {
            run_got += got;
            run_want += want;
        }
    }
    /* Only a decimal next to a rounding boundary, or exactly a double with more than 15
     * digits, leaves its run to the one-at-a-time path. */
    cr_assert_geq(run_got, run_want * 95 / 100, "runs read %zu of %zu numbers", run_got, run_want);
}

// num: JSON number conversion behind a C interface; never allocates or throws.
// The steps of both hot paths are forced inline into their entry points (always_inline):
// their calls' register saves and restores were about a tenth of a number's instructions.
// Parsing: plain decimals of at most 19 significant digits (nearly every number a client
// sends) are read here, exactly (Clinger's fast path, else an Eisel-Lemire product on the
// power-of-ten table that shortest printing already has, falling back when the product
// cannot decide the rounding); anything else goes to std::from_chars (libstdc++ 12:
// fast_float, correctly rounded), which also decides every edge case. Printing is
// Schubfach (R. Giulietti, "The Schubfach way to render doubles", 2020): the shortest digits
// that parse back to the value, the closest of them to it, laid out as std::to_chars lays them
// out (fixed or scientific, whichever is shorter, fixed on a tie; an integer's fixed form
// exact), byte for byte: a small /v1 reply spent an eighth of its CPU in std::to_chars, and
// this takes about 3/4 of its time and 2/3 of its instructions. tests/api/test_num.c checks
// it against std::to_chars on hundreds of thousands of values.
#include "num.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <system_error>

#include "num_pow10.h"

// The digit readers and writers work on the bytes of 64-bit words, in memory order.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "num.cpp assumes a little-endian target");

namespace
{

// On result_out_of_range std::from_chars leaves the value alone and does not say which way
// it went. A double overflows only when the decimal exponent of the leading digit is >= 308
// and underflows only when it is <= -324, so its sign decides.
bool leading_exponent_positive(const char *s, const char *end)
{
    if (s < end && *s == '-')
        s++;
    long e10 = 0;
    bool seen_nonzero = false;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (seen_nonzero || *s != '0') {
            if (seen_nonzero)
                e10++;
            seen_nonzero = true;
        }
    }
    if (s < end && *s == '.') {
        for (s++; s < end && *s >= '0' && *s <= '9'; s++) {
            if (!seen_nonzero) {
                e10--;
                if (*s != '0')
                    seen_nonzero = true;
            }
        }
    }
    long exp = 0;
    bool neg = false;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            neg = *s++ == '-';
        for (; s < end && *s >= '0' && *s <= '9'; s++)
            if (exp < 100000000)
                exp = exp * 10 + (*s - '0');
    }
    return e10 + (neg ? -exp : exp) > 0;
}

// ---- parsing: libstdc++ (fast_float inside; a hand-written Eisel-Lemire was measured no
// faster here) ----

num_status parse_double(const char *s, size_t len, double *out)
{
    const char *end = s + len;
    double v = 0.0;
    std::from_chars_result r = std::from_chars(s, end, v, std::chars_format::general);
    if (r.ec == std::errc::result_out_of_range && r.ptr == end) {
        bool negative = len > 0 && s[0] == '-';
        if (leading_exponent_positive(s, end)) {
            *out = negative ? -std::numeric_limits<double>::infinity()
                            : std::numeric_limits<double>::infinity();
            return NUM_OVERFLOW;
        }
        *out = negative ? -0.0 : 0.0;
        return NUM_OK;
    }
    if (r.ec != std::errc() || r.ptr != end)
        return NUM_INVALID;
    *out = v;
    return NUM_OK;
}

// std::from_chars (general format) accepts a superset of RFC 8259 numbers over the bytes it
// consumes; after it, these checks reject exactly the difference: "-.5", "inf"/"nan", "01",
// "1.", "1.e5". Its exponent rule already matches (a malformed exponent is left unconsumed,
// so the caller sees an 'e' where a delimiter must be).
bool rfc_number(const char *s, const char *end)
{
    if (s < end && *s == '-')
        s++;
    if (s >= end || *s < '0' || *s > '9')
        return false;
    if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
        return false;
    while (s < end && *s >= '0' && *s <= '9')
        s++;
    if (s < end && *s == '.')
        return s + 1 < end && s[1] >= '0' && s[1] <= '9';
    return true;
}

num_status parse_json_general(const char *s, size_t avail, double *out, size_t *used)
{
    const char *end = s + avail;
    double v = 0.0;
    std::from_chars_result r = std::from_chars(s, end, v, std::chars_format::general);
    if (r.ptr == s || !rfc_number(s, r.ptr))
        return NUM_INVALID;
    *used = static_cast<size_t>(r.ptr - s);
    if (r.ec == std::errc::result_out_of_range) {
        bool negative = s[0] == '-';
        if (leading_exponent_positive(s, r.ptr)) {
            *out = negative ? -std::numeric_limits<double>::infinity()
                            : std::numeric_limits<double>::infinity();
            return NUM_OVERFLOW;
        }
        *out = negative ? -0.0 : 0.0;
        return NUM_OK;
    }
    if (r.ec != std::errc())
        return NUM_INVALID;
    *out = v;
    return NUM_OK;
}

typedef unsigned __int128 u128;

// ---- parsing fast path ----

inline bool is_digit(char c)
{
    return static_cast<unsigned char>(c - '0') < 10;
}

// Whether the 8 bytes at p are all ASCII digits, and their value (SWAR, as in fast_float).
inline bool eight_digits(const char *p, uint32_t *value)
{
    uint64_t v;
    std::memcpy(&v, p, 8);
    // a byte above '9' sets its top bit in v + 0x46.., one below '0' in v - 0x30..; the first
    // such byte from the low end sees no carry or borrow from below it
    if ((((v + 0x4646464646464646ull) | (v - 0x3030303030303030ull)) & 0x8080808080808080ull) != 0)
        return false;
    v -= 0x3030303030303030ull;
    v = (v * 10) + (v >> 8);
    v = (((v & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
         (((v >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
        32;
    *value = static_cast<uint32_t>(v);
    return true;
}

const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                              1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                              1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// w * 10^q rounded to the nearest double (w > 0, q within the table), or false when the
// 128-bit product cannot decide the rounding, or the result is subnormal or infinite. The
// table holds g = floor(beta) + 1, so beta lies in [g - 1, g): the product of w with g - 1
// truncated to its top 128 bits is below the exact one by less than 2 units of its low word.
__attribute__((always_inline)) inline bool eisel_lemire(uint64_t w, int q, double *out)
{
    const unsigned long long *g = num_pow10_g[q - NUM_POW10_MIN];
    uint64_t t_hi = g[0], t_lo = g[1];
    if (t_lo-- == 0)
        t_hi--;
    int lz = __builtin_clzll(w);
    w <<= lz;
    u128 first = static_cast<u128>(w) * t_hi;
    u128 second = static_cast<u128>(w) * t_lo;
    uint64_t hi = static_cast<uint64_t>(first >> 64), lo = static_cast<uint64_t>(first);
    uint64_t carry_in = static_cast<uint64_t>(second >> 64);
    lo += carry_in;
    hi += lo < carry_in;
    int upper = static_cast<int>(hi >> 63);
    int shift = upper + 9; // keeps 53 bits and the rounding bit
    uint64_t mask = (1ull << shift) - 1, rest = hi & mask;
    uint64_t m = hi >> shift;
    // The exact product is in [hi:lo, hi:lo + 2): undecided next to a rounding boundary.
    if ((rest == mask && lo >= ~0ull - 3) || ((m & 1) && rest == 0 && lo <= 3))
        return false;
    int e = ((217706 * q) >> 16) + 63 + upper - lz + 1023; // biased exponent
    m = (m + (m & 1)) >> 1;
    if (m >= (2ull << 52)) {
        m = 1ull << 52;
        e++;
    }
    if (e <= 0 || e >= 0x7FF)
        return false;
    uint64_t bits = (m & ((1ull << 52) - 1)) | static_cast<uint64_t>(e) << 52;
    std::memcpy(out, &bits, sizeof bits);
    return true;
}

// The digits of a plain JSON number: w, its decimal exponent q, where it ends. False for
// anything else (leading zeros, "1.", "1e", more than 19 significant digits), which the
// general parser then reads or refuses.
bool scan_plain(const char *s, const char *end, uint64_t *w_out, long *q_out, const char **stop)
{
    const char *p = s;
    uint64_t w = 0;
    long q = 0;
    int nd = 0; // significant digits in w
    uint32_t eight;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !is_digit(*p))
        return false;
    if (*p == '0') {
        if (++p < end && is_digit(*p))
            return false;
    } else {
        for (; p < end && is_digit(*p); p++) {
            if (nd == 19)
                return false;
            w = w * 10 + static_cast<unsigned>(*p - '0');
            nd++;
        }
    }
    if (p < end && *p == '.') {
        const char *f = ++p;
        if (w == 0)
            while (p < end && *p == '0')
                p++;
        uint32_t eight2;
        if (end - p >= 16 && nd <= 3 && eight_digits(p, &eight) && eight_digits(p + 8, &eight2)) {
            w = w * 10000000000000000 + eight * 100000000ull + eight2; // 16 digits at once
            nd += 16;
            p += 16;
        }
        while (end - p >= 8 && nd <= 11 && eight_digits(p, &eight)) {
            w = w * 100000000 + eight;
            nd += 8;
            p += 8;
        }
        for (; p < end && is_digit(*p); p++) {
            if (nd == 19)
                return false;
            w = w * 10 + static_cast<unsigned>(*p - '0');
            nd++;
        }
        if (p == f)
            return false;
        q = -(p - f);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool neg = false;
        if (p < end && (*p == '+' || *p == '-'))
            neg = *p++ == '-';
        if (p >= end || !is_digit(*p))
            return false;
        long e = 0;
        for (; p < end && is_digit(*p); p++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        q += neg ? -e : e;
    }
    *w_out = w;
    *q_out = q;
    *stop = p;
    return true;
}

// w * 10^q (the magnitude of a scanned plain number) when the fast path decides it exactly:
// false for anything the general parser must read (a product next to a rounding boundary,
// subnormal, infinite, out of the table).
inline bool plain_value(uint64_t w, long q, double *v)
{
    if (w == 0) {
        *v = 0.0;
    } else if (w <= (1ull << 53) && q >= -22 && q <= 22) { // both exact: one rounding
        double x = static_cast<double>(w);
        *v = q < 0 ? x / exact_pow10[-q] : x * exact_pow10[q];
    } else if (q < NUM_POW10_MIN || q > 308 || !eisel_lemire(w, static_cast<int>(q), v)) {
        return false;
    }
    return true;
}

num_status parse_json(const char *s, size_t avail, double *out, size_t *used)
{
    const char *end = s + avail, *stop;
    uint64_t w;
    long q;
    double v;
    if (!scan_plain(s, end, &w, &q, &stop) || !plain_value(w, q, &v))
        return parse_json_general(s, avail, out, used);
    *out = s[0] == '-' ? -v : v;
    *used = static_cast<size_t>(stop - s);
    return NUM_OK;
}

// The bytes that can continue a JSON number: a number followed by one was cut or is malformed.
inline bool number_byte(char c)
{
    return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// See num_parse_json_run: one loop with nothing between numbers but the ',' check, as a
// tensor's text is nearly all such runs.
size_t parse_json_run(const char *s, size_t avail, double *out, size_t cap, size_t *used)
{
    const char *p = s, *end = s + avail, *done = s, *stop;
    size_t n = 0;
    while (n < cap) {
        uint64_t w;
        long q;
        double v;
        if (!scan_plain(p, end, &w, &q, &stop) || stop == end || number_byte(*stop) ||
            !plain_value(w, q, &v))
            break;
        out[n++] = *p == '-' ? -v : v;
        done = stop;
        if (end - stop < 2 || stop[0] != ',' || !(is_digit(stop[1]) || stop[1] == '-'))
            break;
        p = stop + 1;
    }
    *used = static_cast<size_t>(done - s);
    return n;
}

// ---- shortest printing (Schubfach) ----

// Round to odd of cp * g / 2^128: the high 64 bits, with a sticky bit for the rest.
inline uint64_t round_to_odd(const unsigned long long *g, uint64_t cp)
{
    u128 x = static_cast<u128>(cp) * g[1];
    u128 y = static_cast<u128>(cp) * g[0] + static_cast<uint64_t>(x >> 64);
    return static_cast<uint64_t>(y >> 64) | (static_cast<uint64_t>(y) != 0);
}

struct decimal {
    uint64_t digits;
    int exp10;
};

// The shortest decimal in the rounding interval of c * 2^q (c > 0), the closest to it when
// several are; lower_closer when the predecessor is nearer (c a power of two, normal).
__attribute__((always_inline)) inline decimal to_decimal(uint64_t c, int q, bool lower_closer)
{
    bool even = (c & 1) == 0;
    uint64_t cbl = 4 * c - 2 + lower_closer, cb = 4 * c, cbr = 4 * c + 2;
    // floor(log10(2^q)), or floor(log10(3/4 2^q)) when the interval is lopsided
    int k = (q * 1262611 - (lower_closer ? 524031 : 0)) >> 22;
    int h = q + ((-k * 1741647) >> 19) + 1; // q + floor(log2(10^-k)) + 1, in [1, 4]
    const unsigned long long *g = num_pow10_g[-k - NUM_POW10_MIN];
    uint64_t vbl = round_to_odd(g, cbl << h), vb = round_to_odd(g, cb << h),
             vbr = round_to_odd(g, cbr << h);
    uint64_t lower = vbl + !even, upper = vbr - !even;
    uint64_t s = vb >> 2;
    if (s >= 10) { // one digit fewer, if exactly one of its neighbours is inside
        uint64_t sp = s / 10;
        bool up_in = lower <= 40 * sp, wp_in = 40 * sp + 40 <= upper;
        if (up_in != wp_in)
            return {sp + wp_in, k + 1};
    }
    bool u_in = lower <= 4 * s, w_in = 4 * s + 4 <= upper;
    if (u_in != w_in)
        return {s + w_in, k};
    uint64_t mid = 4 * s + 2;
    bool round_up = vb > mid || (vb == mid && (s & 1) != 0);
    return {s + round_up, k};
}

decimal strip_zeros(decimal d)
{
    while (d.digits % 10 == 0) {
        d.digits /= 10;
        d.exp10++;
    }
    return d;
}

// value = c * 2^q with c < 2^bits; small integers are their own shortest digits.
__attribute__((always_inline)) inline decimal shortest(uint64_t c, int q, int bits,
                                                       bool lower_closer)
{
    if (q <= 0 && q > -bits && (c & ((1ull << -q) - 1)) == 0)
        return strip_zeros({c >> -q, 0});
    return strip_zeros(to_decimal(c, q, lower_closer));
}

const uint64_t pow10_u64[] = {1ull,
                              10ull,
                              100ull,
                              1000ull,
                              10000ull,
                              100000ull,
                              1000000ull,
                              10000000ull,
                              100000000ull,
                              1000000000ull,
                              10000000000ull,
                              100000000000ull,
                              1000000000000ull,
                              10000000000000ull,
                              100000000000000ull,
                              1000000000000000ull,
                              10000000000000000ull,
                              100000000000000000ull,
                              1000000000000000000ull,
                              10000000000000000000ull};

int decimal_length(uint64_t v) // v > 0
{
    int n = ((64 - __builtin_clzll(v)) * 1233 >> 12) + 1; // log10(2) ~ 1233 / 4096
    return n - (v < pow10_u64[n - 1]);
}

const char two_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "74757677787980818283848586878889909192939495969798990";

// Fixed-size copies of these stay inside NUM_FORMAT_MAX and need no memset call.
const char zeros[] = "000000000000000000000000";

inline void put2(char *p, uint32_t v)
{
    std::memcpy(p, two_digits + 2 * v, 2);
}

// Writes exactly 8 digits of v < 10^8, all at once: v splits into 4-digit halves, each into
// 2-digit quarters, each into digits, in the lanes of one 64-bit word (multiplications by
// reciprocals exact below 10^8, checked on every v), which is then byte-swapped into order.
inline void put8(char *p, uint32_t v)
{
    uint64_t x = v;
    uint64_t halves = x + (0x100000000ull - 10000) * ((x * 0x68DB8BADull) >> 44);
    uint64_t quarters =
        halves + (0x10000 - 100) * (((halves * 0x147B) >> 19) & 0x0000007F0000007Full);
    uint64_t digits = quarters + (0x100 - 10) * (((quarters * 0x67) >> 10) & 0x000F000F000F000Full);
    digits = __builtin_bswap64(digits) | 0x3030303030303030ull;
    std::memcpy(p, &digits, 8);
}

// Writes the digits of v ending at end - 1: 8 at a time, then the at most 8 left in halves
// that do not depend on each other (a chain of divisions by 100 was a visible cost).
__attribute__((always_inline)) inline void put_digits(char *end, uint64_t v)
{
    while (v >= 100000000) {
        uint64_t q = v / 100000000;
        end -= 8;
        put8(end, static_cast<uint32_t>(v - q * 100000000));
        v = q;
    }
    uint32_t u = static_cast<uint32_t>(v);
    if (u >= 10000000) {
        put8(end - 8, u);
        return;
    }
    if (u >= 10000) {
        uint32_t lo = u % 10000;
        u /= 10000;
        end -= 4;
        put2(end, lo / 100);
        put2(end + 2, lo % 100);
    }
    if (u >= 100) {
        end -= 2;
        put2(end, u % 100);
        u /= 100;
    }
    if (u >= 10)
        put2(end - 2, u);
    else
        end[-1] = static_cast<char>('0' + u);
}

// Lays d out as std::to_chars does with no format: %f or %e style, whichever is shorter
// (fixed on a tie), exponent with a sign and at least two digits. Like printf's %f, the fixed
// form of an integer is exact, not the shortest digits padded with zeros: `integer` is the
// value when it is an integer below 2^128 (else 0; the fixed form is only ever chosen for
// values below 10^22). Returns the length.
__attribute__((always_inline)) inline size_t layout(char *buf, bool negative, decimal d,
                                                    u128 integer)
{
    char *p = buf;
    int n = decimal_length(d.digits), point = n + d.exp10; // digits before the point
    int sci_exp = point - 1, abs_exp = sci_exp < 0 ? -sci_exp : sci_exp;
    int fixed_len = d.exp10 >= 0 ? point : point > 0 ? n + 1 : 2 - point + n;
    int sci_len = n + (n > 1) + 2 + (abs_exp >= 100 ? 3 : 2);
    if (negative)
        *p++ = '-';
    if (fixed_len <= sci_len) {
        if (d.exp10 > 0 && integer != 0) { // the exact integer, below 10^22
            const uint64_t e19 = 10000000000000000000ull;
            if (integer >= e19) {
                std::memcpy(p, zeros, 24); // point <= 22
                put_digits(p + point, static_cast<uint64_t>(integer % e19));
                put_digits(p + point - 19, static_cast<uint64_t>(integer / e19));
            } else {
                put_digits(p + point, static_cast<uint64_t>(integer));
            }
        } else if (d.exp10 >= 0) { // digits, then zeros (an integer below 2^53)
            put_digits(p + n, d.digits);
            std::memcpy(p + n, zeros, 8); // exp10 <= 5 when fixed is shorter
        } else if (point > 0) {           // dig.its
            put_digits(p + n + 1, d.digits);
            std::memmove(p, p + 1, static_cast<size_t>(point));
            p[point] = '.';
        } else {                      // 0.000digits
            std::memcpy(p, zeros, 8); // 2 - point <= 5 when fixed is shorter
            p[1] = '.';
            put_digits(p + fixed_len, d.digits);
        }
        return static_cast<size_t>(p + fixed_len - buf);
    }
    put_digits(p + n + 1, d.digits); // d.igits: the first digit moves left over the point
    p[0] = p[1];
    if (n > 1)
        p[1] = '.';
    p += n + (n > 1);
    *p++ = 'e';
    *p++ = sci_exp < 0 ? '-' : '+';
    if (abs_exp >= 100) {
        *p++ = static_cast<char>('0' + abs_exp / 100);
        abs_exp %= 100;
    }
    put2(p, static_cast<uint32_t>(abs_exp));
    return static_cast<size_t>(p + 2 - buf);
}

} // namespace

extern "C" num_status num_parse_double(const char *s, size_t len, double *out)
{
    return parse_double(s, len, out);
}

extern "C" num_status num_parse_json(const char *s, size_t avail, double *out, size_t *used)
{
    return parse_json(s, avail, out, used);
}

extern "C" size_t num_parse_json_run(const char *s, size_t avail, double *out, size_t cap,
                                     size_t *used)
{
    return parse_json_run(s, avail, out, cap, used);
}

extern "C" size_t num_format_double(double v, char *buf)
{
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    uint64_t m = bits & ((1ull << 52) - 1);
    int e = static_cast<int>(bits >> 52 & 0x7FF);
    bool negative = bits >> 63;
    if (e == 0x7FF)
        return 0;
    if (e == 0 && m == 0) {
        std::memcpy(buf, "-0", 2);
        return negative ? 2 : (buf[0] = '0', 1);
    }
    if (e == 0)
        return layout(buf, negative, shortest(m, -1074, 53, false), 0);
    uint64_t c = m | 1ull << 52;
    int q = e - 1075;
    u128 integer = q > 0 && q < 75 ? static_cast<u128>(c) << q : 0;
    return layout(buf, negative, shortest(c, q, 53, m == 0 && e > 1), integer);
}

extern "C" size_t num_format_float(float v, char *buf)
{
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    uint32_t m = bits & ((1u << 23) - 1);
    int e = static_cast<int>(bits >> 23 & 0xFF);
    bool negative = bits >> 31;
    if (e == 0xFF)
        return 0;
    if (e == 0 && m == 0) {
        std::memcpy(buf, "-0", 2);
        return negative ? 2 : (buf[0] = '0', 1);
    }
    if (e == 0)
        return layout(buf, negative, shortest(m, -149, 24, false), 0);
    uint64_t c = m | 1u << 23;
    int q = e - 150;
    u128 integer = q > 0 ? static_cast<u128>(c) << q : 0;
    return layout(buf, negative, shortest(c, q, 24, m == 0 && e > 1), integer);
}

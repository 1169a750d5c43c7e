// num: std::from_chars / std::to_chars behind a C interface. libstdc++ 12 implements both
// with correctly rounded algorithms (fast_float for parsing, Ryu for shortest printing), so
// this file is the whole of lossd's number conversion; it never allocates or throws.
#include "num.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

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

} // namespace

extern "C" num_status num_parse_double(const char *s, size_t len, double *out)
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
static bool rfc_number(const char *s, const char *end)
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

extern "C" num_status num_parse_json(const char *s, size_t avail, double *out, size_t *used)
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

extern "C" size_t num_format_double(double v, char *buf)
{
    if (!std::isfinite(v))
        return 0;
    std::to_chars_result r = std::to_chars(buf, buf + NUM_FORMAT_MAX, v);
    return r.ec == std::errc() ? static_cast<size_t>(r.ptr - buf) : 0;
}

extern "C" size_t num_format_float(float v, char *buf)
{
    if (!std::isfinite(v))
        return 0;
    std::to_chars_result r = std::to_chars(buf, buf + NUM_FORMAT_MAX, v);
    return r.ec == std::errc() ? static_cast<size_t>(r.ptr - buf) : 0;
}

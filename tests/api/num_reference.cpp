// The libstdc++ conversions test_num.c compares api/num.cpp's fast paths against.
#include <charconv>
#include <cstddef>
#include <system_error>

extern "C" size_t num_ref_format_double(double v, char *buf, size_t cap)
{
    std::to_chars_result r = std::to_chars(buf, buf + cap, v);
    return r.ec == std::errc() ? static_cast<size_t>(r.ptr - buf) : 0;
}

extern "C" size_t num_ref_format_float(float v, char *buf, size_t cap)
{
    std::to_chars_result r = std::to_chars(buf, buf + cap, v);
    return r.ec == std::errc() ? static_cast<size_t>(r.ptr - buf) : 0;
}

// Returns the bytes read (0 if none) and sets *ok when the value is in range.
extern "C" size_t num_ref_parse(const char *s, size_t len, double *out, int *ok)
{
    std::from_chars_result r = std::from_chars(s, s + len, *out, std::chars_format::general);
    *ok = r.ec == std::errc();
    return static_cast<size_t>(r.ptr - s);
}

// libstdc++'s std::to_chars, which test_num.c compares api/num.cpp's printing against.
#include <charconv>
#include <cstddef>
#include <system_error>

#include "num_reference.h"

size_t num_ref_format_double(double v, char *buf, size_t cap)
{
    std::to_chars_result r = std::to_chars(buf, buf + cap, v);
    return r.ec == std::errc() ? static_cast<size_t>(r.ptr - buf) : 0;
}

size_t num_ref_format_float(float v, char *buf, size_t cap)
{
    std::to_chars_result r = std::to_chars(buf, buf + cap, v);
    return r.ec == std::errc() ? static_cast<size_t>(r.ptr - buf) : 0;
}

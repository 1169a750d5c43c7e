#!/usr/bin/python3
"""Prints the polynomial coefficients of core/vmath.h, double lanes and float lanes.

Near-minimax (Chebyshev) fits computed in 60-digit arithmetic with mpmath, rounded to
double and printed as C hex-float literals, lowest degree first:
  exp:  expm1(r) = r + r^2 H(r) on |r| <= 0.3466 (just over ln2/2, for n's rounding),
        H of degree 10, fit error 1.4e-18 (0.01 ulp of exp(r) after the r^2 factor).
  log:  log((1+s)/(1-s)) = 2s + s z L(z), z = s^2, s = f/(2+f) for 1+f in [sqrt(1/2), sqrt(2)],
        so z <= 0.02944; L of degree 6, fit error 3.1e-16 (0.02 ulp after the z/2 factor).
The float32 kernels' forms ("lite", kern.h vm_f32): H of degree 6 (fit error 2.7e-11) and L
of degree 4 (fit error 7.3e-12).
Also the two-part ln2: LN2_HI keeps 33 bits, so n * LN2_HI is exact for every |n| < 2^20
(expm1's reduction and log's exponent term), and LN2_LO = ln2 - LN2_HI rounded; exp alone
reduces with two FMAs by EXP_LN2_HI = ln2 rounded and EXP_LN2_LO = ln2 - EXP_LN2_HI.
Usage: /usr/bin/python3 scripts/vmath_coeffs.py
"""
import struct

import mpmath as mp

mp.mp.dps = 60


def f32(x):
    """x rounded to float."""
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def hexf(x):
    return float(x).hex()


def fit(f, a, b, deg):
    coeffs, err = mp.chebyfit(f, [a, b], deg + 1, error=True)
    return [float(c) for c in coeffs[::-1]], err


def exp_h(r):
    if abs(r) < mp.mpf("1e-30"):
        return mp.mpf(1) / 2
    return (mp.expm1(r) - r) / r**2


def log_l(z):
    if z < mp.mpf("1e-40"):
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (mp.log((1 + s) / (1 - s)) - 2 * s) / (s * z)


def truncate_bits(x, bits):
    """x rounded toward zero to `bits` significant bits."""
    m, e = mp.frexp(x)
    return mp.ldexp(mp.floor(m * 2**bits), e - bits)


def main():
    ln2 = mp.log(2)
    print("exp H (degree 10):")
    h, err = fit(exp_h, -mp.mpf("0.3466"), mp.mpf("0.3466"), 10)
    for k, c in enumerate(h):
        print(f"  H{k} {hexf(c)}")
    print(f"  fit error {mp.nstr(err, 3)}")
    smax = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
    print("exp H lite (degree 6):")
    h, err = fit(exp_h, -mp.mpf("0.3466"), mp.mpf("0.3466"), 6)
    for k, c in enumerate(h):
        print(f"  H{k} {hexf(c)}")
    print(f"  fit error {mp.nstr(err, 3)}")
    print("log L (degree 6):")
    l, err = fit(log_l, 0, smax**2 * mp.mpf("1.0001"), 6)
    for k, c in enumerate(l):
        print(f"  L{k} {hexf(c)}")
    print(f"  fit error {mp.nstr(err, 3)}")
    print("log L lite (degree 4):")
    l, err = fit(log_l, 0, smax**2 * mp.mpf("1.0001"), 4)
    for k, c in enumerate(l):
        print(f"  L{k} {hexf(c)}")
    print(f"  fit error {mp.nstr(err, 3)}")
    hi = truncate_bits(ln2, 33)
    print(f"LN2_HI {hexf(hi)}  LN2_LO {hexf(ln2 - hi)}")
    hi = mp.mpf(float(ln2))
    print(f"EXP_LN2_HI {hexf(hi)}  EXP_LN2_LO {hexf(ln2 - hi)}")
    print(f"LOG2E {hexf(1 / ln2)}  SQRT2 {hexf(mp.sqrt(2))}")
    # Float lanes: the same fits at lower degree, rounded to float (H of degree 4, 1.1e-8 of
    # exp(r); L of degree 2, 2.5e-9 of log); ln2 with 15 bits so n * LN2_HI is exact for
    # |n| < 2^9.
    print("float exp H (degree 4):", [hexf(f32(c)) for c in fit(exp_h, -mp.mpf("0.3466"),
                                                               mp.mpf("0.3466"), 4)[0]])
    print("float log L (degree 2):", [hexf(f32(c)) for c in fit(log_l, 0, smax**2 *
                                                              mp.mpf("1.0001"), 2)[0]])
    hi = truncate_bits(ln2, 15)
    print(f"float LN2_HI {hexf(hi)}  LN2_LO {hexf(f32(ln2 - hi))}")
    hi = mp.mpf(f32(ln2))
    print(f"float EXP_LN2_HI {hexf(hi)}  EXP_LN2_LO {hexf(f32(ln2 - hi))}")


if __name__ == "__main__":
    main()

// Package units formats and parses byte counts the way people write them:
// 300, 64KiB, 1.5 MiB, 2GB.
package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrSyntax is returned by Parse for text that is not a size.
var ErrSyntax = errors.New("units: invalid size")

var binary = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// Bytes renders n with binary units: 512 B, 64 KiB, 1.5 MiB. A whole number
// of units prints without decimals; anything else with one, so "512.0 MiB"
// means about 512 MiB and "512 MiB" exactly that.
func Bytes(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	for v >= 1024 && i < len(binary)-1 {
		v /= 1024
		i++
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f %s", v, binary[i])
	}
	if v >= 1023.95 && i < len(binary)-1 { // would print as "1024.0"
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, binary[i])
}

// Size is Bytes for address-sized counts.
func Size(n uintptr) string { return Bytes(uint64(n)) }

// Parse reads a size such as "300", "150MiB", "1.5 GiB", "64KiB" or
// "200MB": a decimal number (digits, optionally one point and more digits)
// and a unit. Units are case-insensitive and mean what go-humanize's
// ParseBytes makes of them: SI units are powers of 1000 (k, kB, MB = 10^6,
// GB…) and IEC units powers of 1024 (Ki, KiB, MiB = 2^20, GiB…), so "200MB"
// is 200,000,000 bytes, not 200 MiB. It rejects signs, exponents,
// fractional bytes and overflowing sizes.
func Parse(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	if strings.HasPrefix(num, "-") {
		return 0, fmt.Errorf("%w: %q is negative", ErrSyntax, s)
	}
	if !decimal(num) {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	mult, ok := multipliers[unit]
	if !ok {
		return 0, fmt.Errorf("%w: %q: unknown unit %q (want B, kB, MB, GB… or KiB, MiB, GiB…)", ErrSyntax, s, unit)
	}
	if n, err := strconv.ParseUint(num, 10, 64); err == nil {
		if n > math.MaxUint64/mult {
			return 0, fmt.Errorf("%w: %q overflows 64 bits", ErrSyntax, s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	v := f * float64(mult)
	if v >= math.MaxUint64 {
		return 0, fmt.Errorf("%w: %q overflows 64 bits", ErrSyntax, s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("%w: %q is not a whole number of bytes", ErrSyntax, s)
	}
	return uint64(v), nil
}

// multipliers maps a lower-case unit to its size in bytes, as go-humanize's
// ParseBytes reads units: with or without the trailing "b", SI and IEC.
var multipliers = func() map[string]uint64 {
	m := map[string]uint64{"": 1, "b": 1}
	si, iec := uint64(1), uint64(1)
	for _, p := range "kmgtpe" {
		si, iec = si*1000, iec*1024
		m[string(p)], m[string(p)+"b"] = si, si
		m[string(p)+"i"], m[string(p)+"ib"] = iec, iec
	}
	return m
}()

// decimal reports whether s is digits with at most one decimal point
// between digits.
func decimal(s string) bool {
	whole, frac, hasPoint := strings.Cut(s, ".")
	digits := func(t string) bool {
		for _, c := range t {
			if c < '0' || c > '9' {
				return false
			}
		}
		return t != ""
	}
	return digits(whole) && (!hasPoint || digits(frac))
}

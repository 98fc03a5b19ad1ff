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

// Parse reads a size such as "300", "150MiB", "1.5 GiB", "64k" or "2GB": a
// decimal number (digits, optionally one point and more digits) and a unit.
// Units are case-insensitive; K, KB and KiB all mean 1024 (as Windows and the
// user's document use them). It rejects signs, exponents, fractional bytes
// and overflowing sizes.
func Parse(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	if !decimal(num) {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	shift := 0
	switch unit {
	case "", "b":
	case "k", "kb", "kib":
		shift = 10
	case "m", "mb", "mib":
		shift = 20
	case "g", "gb", "gib":
		shift = 30
	case "t", "tb", "tib":
		shift = 40
	case "p", "pb", "pib":
		shift = 50
	case "e", "eb", "eib":
		shift = 60
	default:
		return 0, fmt.Errorf("%w: %q: unknown unit %q", ErrSyntax, s, unit)
	}
	if n, err := strconv.ParseUint(num, 10, 64); err == nil {
		if shift > 0 && n > math.MaxUint64>>shift {
			return 0, fmt.Errorf("%w: %q overflows 64 bits", ErrSyntax, s)
		}
		return n << shift, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	v := f * float64(uint64(1)<<shift)
	if v >= math.MaxUint64 {
		return 0, fmt.Errorf("%w: %q overflows 64 bits", ErrSyntax, s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("%w: %q is not a whole number of bytes", ErrSyntax, s)
	}
	return uint64(v), nil
}

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

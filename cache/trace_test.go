package cache

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Access traces for the eviction evidence (policy_test.go) and the hit-ratio
// tests: keys are uint64 ids, scattered so that popular ids are not neighbours.

// zipfTrace returns n requests over keys ids drawn with probability
// proportional to 1/rank^alpha (alpha may be below 1, which math/rand's
// Zipf does not allow).
func zipfTrace(seed uint64, keys int, alpha float64, n int) []uint64 {
	cdf := make([]float64, keys)
	sum := 0.0
	for i := range cdf {
		sum += 1 / math.Pow(float64(i+1), alpha)
		cdf[i] = sum
	}
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]uint64, n)
	for i := range out {
		rank := sort.SearchFloat64s(cdf, r.Float64()*sum)
		out[i] = scatter(uint64(rank))
	}
	return out
}

// scanTrace is a Zipf trace interrupted by scans: after every period
// requests, period/2 keys that are each read once and never again (a
// backup, a report, a crawler), so a third of the requests are one-hit
// wonders that a policy should not let push the popular keys out.
func scanTrace(seed uint64, keys int, alpha float64, n, period int) []uint64 {
	z := zipfTrace(seed, keys, alpha, n)
	out := make([]uint64, 0, n+n/2)
	next := uint64(keys)
	for i, k := range z {
		out = append(out, k)
		if (i+1)%period == 0 {
			for range period / 2 {
				out = append(out, scatter(next))
				next++
			}
		}
	}
	return out
}

// scatter is a bijection on uint64 (splitmix64's finaliser).
func scatter(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

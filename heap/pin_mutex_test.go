//go:build zebra_nopin

package heap

// slotLimit bounds the slots pin returns: the fallback's mutexes.
func slotLimit() int { return mutexSlots }

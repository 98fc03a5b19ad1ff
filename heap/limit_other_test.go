//go:build !(linux || darwin || freebsd)

package heap

import "errors"

const canLimitAddressSpace = false

func limitAddressSpace(uint64) error { return errors.New("no address-space limit on this OS") }

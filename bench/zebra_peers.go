package main

import "github.com/zebra-heap/zebra/heap"

// zebraPeers are the zebra heap configurations the suite measures: one row
// each in every table. Add a configuration by adding a row; Config is
// printed beside the results, so say what the row changes (policy, huge
// pages, locking, zeroing). A row with Options.NoSerialize sits out the
// shared-heap churn (its heap serves one goroutine at a time).
var zebraPeers = []zebraPeer{
	{Name: "zebra", Config: "heap.Options{}: Default policy, per-P caches (no lock on the common path), no zeroing, 4 KiB pages; address-space quarantine off in every zebra row", Options: heap.Options{}},
	{Name: "zebra-nt", Config: "heap.Options{Policy: heap.NT}: Windows NT growth, per-P caches, no zeroing", Options: heap.Options{Policy: heap.NT}},
	{Name: "zebra-huge", Config: "heap.Options{HugePages: true}: Default policy, 2 MiB-aligned THP (madvise), per-P caches", Options: heap.Options{HugePages: true}},
	{Name: "zebra-noser", Config: "heap.Options{NoSerialize: true}: Default policy, one goroutine at a time, one cache, no locks (HEAP_NO_SERIALIZE)", Options: heap.Options{NoSerialize: true}},
}

// zebraPeer is one row of zebraPeers. Options.Reserve is set per workload
// (the seed's heap B reserves 150 MiB); Name is set per heap.
type zebraPeer struct {
	Name    string
	Config  string
	Options heap.Options
}

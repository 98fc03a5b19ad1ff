package zebrahttp_test

import (
	"net/http"
	"time"

	"github.com/zebra-heap/zebra/zebrahttp"
)

// A program with its own mux mounts a handler that keeps 30 minutes at
// one snapshot per 30 s, within 32 MiB.
func ExampleNew() {
	mux := http.NewServeMux()
	h := zebrahttp.New(zebrahttp.Options{Every: 30 * time.Second, Keep: 60, MaxBytes: 32 << 20})
	defer h.Stop()
	mux.Handle("/debug/zebra/", h)
	_ = http.ListenAndServe // http.ListenAndServe("localhost:6060", mux)
}

// Behind http.StripPrefix the handler sees paths from "/".
func ExampleOptions_path() {
	h := zebrahttp.New(zebrahttp.Options{Path: "/"})
	defer h.Stop()
	http.NewServeMux().Handle("/admin/zebra/", http.StripPrefix("/admin/zebra", h))
}

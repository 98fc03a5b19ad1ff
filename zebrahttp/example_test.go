package zebrahttp_test

import (
	"net/http"
	"time"

	"github.com/zebra-heap/zebra/zebrahttp"
)

// A program with its own mux mounts a handler that keeps 30 minutes at
// one snapshot per 30 s.
func ExampleNew() {
	mux := http.NewServeMux()
	mux.Handle("/debug/zebra/", zebrahttp.New(zebrahttp.Options{Every: 30 * time.Second, Keep: 60}))
	_ = http.ListenAndServe
}

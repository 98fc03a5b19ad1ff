package register_test

import (
	"net/http"

	_ "github.com/zebra-heap/zebra/zebrahttp/register"
)

// A program that serves http.DefaultServeMux (as net/http/pprof's users
// do) gets /debug/zebra/ and the expvar variable "zebra" by importing the
// package.
func Example() {
	_ = http.ListenAndServe // http.ListenAndServe("localhost:6060", nil)
}

// Package register, imported for its side effect, serves zebrahttp's pages
// under /debug/zebra/ on http.DefaultServeMux and publishes the heaps'
// figures as the expvar variable "zebra", as importing net/http/pprof
// registers /debug/pprof/:
//
//	import _ "github.com/zebra-heap/zebra/zebrahttp/register"
//
// The Handler it mounts (Handler, with zebrahttp's default Options) starts
// sampling when this package is initialised. Importing expvar, as this
// package does, also registers expvar's /debug/vars on
// http.DefaultServeMux. A program that wants neither mounts
// zebrahttp.New on a mux of its own instead.
package register

import (
	"expvar"
	"net/http"

	"github.com/zebra-heap/zebra/zebrahttp"
)

// Handler is the handler registered at /debug/zebra/.
var Handler = zebrahttp.New(zebrahttp.Options{})

func init() {
	http.Handle("/debug/zebra/", Handler)
	expvar.Publish("zebra", expvar.Func(zebrahttp.Figures))
}

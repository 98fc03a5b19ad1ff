module github.com/zebra-heap/zebra/bench

go 1.26.8

require github.com/zebra-heap/zebra v0.0.0

require golang.org/x/sys v0.50.0 // indirect

replace github.com/zebra-heap/zebra => ../

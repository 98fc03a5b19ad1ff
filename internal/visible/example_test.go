package visible_test

import (
	"fmt"

	"github.com/zebra-heap/zebra/internal/visible"
)

// A process that names itself with escape sequences is printed so that
// the reader sees them and the terminal does not act on them.
func ExampleString() {
	fmt.Println(visible.String("\x1b[2J\x1b]0;pwn\x07"))
	fmt.Println(visible.String("/tmp/report\u202etxt.exe"))
	fmt.Println(visible.String("/usr/lib/libc.so.6"))
	// Output:
	// \x1b[2J\x1b]0;pwn\x07
	// /tmp/report\u202etxt.exe
	// /usr/lib/libc.so.6
}

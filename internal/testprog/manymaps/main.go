// Command manymaps is a test program: a process of tens of thousands of
// mappings, like the incidents zebra is pointed at (RavenDB 65,406, .NET
// 80,000+), whose mappings change all the time. Tests of `zebra record`
// and `zebra report` at scale record it from outside.
//
//	manymaps [-n 60000] [-change 600] [-every 500ms]
//
// It makes about -n mappings (internal/childproc.Mappings: reservations
// of two pages, the first committed), prints "ready", and then every
// -every releases -change/2 of the reservations, in turn, and makes new
// ones of two or three pages in their place, which the kernel puts
// elsewhere: -change or more mappings vanish and as many appear each
// time, and the count stays about -n. It exits when its standard input
// closes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/zebra-heap/zebra/internal/childproc"
)

func main() {
	n := flag.Int("n", 60000, "make about this many mappings")
	change := flag.Int("change", 600, "replace about this many mappings every -every")
	every := flag.Duration("every", 500*time.Millisecond, "how often to change mappings")
	flag.Parse()
	if err := run(*n, *change, *every); err != nil {
		fmt.Fprintln(os.Stderr, "manymaps:", err)
		os.Exit(1)
	}
}

func run(n, change int, every time.Duration) error {
	rs, err := childproc.Mappings(n)
	if err != nil {
		return err
	}
	if len(rs) == 0 || every <= 0 {
		return fmt.Errorf("want -n of at least 2 and a positive -every")
	}
	fmt.Println("ready")
	stop := make(chan struct{})
	go func() {
		bufio.NewReader(os.Stdin).ReadString('\n')
		close(stop)
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	next, round := 0, 0
	for {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		round++
		for range max(change/2, 1) {
			if err := rs[next].Release(); err != nil {
				return err
			}
			// Two or three pages by turns, so a reservation that lands
			// where one was released still differs from it.
			if rs[next], err = childproc.Mapping(2 + round%2); err != nil {
				return err
			}
			next = (next + 1) % len(rs)
		}
	}
}

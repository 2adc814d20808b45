package backoff_test

import (
	"fmt"
	"time"

	"github.com/wsbench/wsbench/internal/backoff"
)

// The delays of a policy whose random source always returns 0.5: half of
// each ceiling, which doubles from Base up to Cap; a stable connection
// starts the sequence again.
func Example() {
	cfg := backoff.Config{Base: 500 * time.Millisecond, Cap: 4 * time.Second, Stable: 10 * time.Second}
	p := backoff.New(cfg, func() float64 { return 0.5 })
	for i := 0; i < 5; i++ {
		fmt.Print(p.Next().Round(time.Millisecond), " ")
	}
	p.Connected(15 * time.Second)
	fmt.Println(p.Next().Round(time.Millisecond))
	// Output: 250ms 500ms 1s 2s 2s 250ms
}

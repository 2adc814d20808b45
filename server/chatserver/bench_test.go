package chatserver

import (
	"fmt"
	"io"
	"testing"

	"github.com/gobwas/ws"
)

// BenchmarkBroadcast measures DeliverLocal to N receivers connected over
// loopback TCP (the clients discard what they read). The frame is encoded
// once per broadcast, so allocs/op must not grow with N.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("receivers=%d", n), func(b *testing.B) {
			s := startServer(b, func(c *Config) { c.SendQueue = 1 << 20; c.MaxConns = 2000 })
			for range n {
				c := dial(b, s, "/bench")
				go io.Copy(io.Discard, c.nc)
			}
			waitMembers(b, s, "/bench", n)
			payload := make([]byte, 128)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if got := s.DeliverLocal("/bench", ws.OpBinary, payload); got != n {
					b.Fatalf("delivered to %d; want %d", got, n)
				}
			}
		})
	}
}

// BenchmarkRelay measures one client's message relayed back to itself
// through the whole server path: read, validate, fan out, write.
func BenchmarkRelay(b *testing.B) {
	s := startServer(b, nil)
	c := dial(b, s, "/relay")
	msg := masked(true, 0, ws.OpBinary, make([]byte, 128))
	b.ReportAllocs()
	for b.Loop() {
		c.write(msg)
		if _, err := c.readData(5e9); err != nil {
			b.Fatal(err)
		}
	}
}

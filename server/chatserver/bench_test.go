package chatserver

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/server/frame"
)

// BenchmarkBroadcast measures broadcasts to N receivers connected over
// loopback TCP, timed until every receiver has read every frame. DeliverLocal
// encodes the frame once and queues it to each receiver, so allocs/op must
// not grow with N; deliveries/s is N × broadcasts over the time taken.
//
//   - mode=lockstep: each broadcast waits until all N receivers have read it
//     before the next starts, so every delivery is its own write: the cost
//     of one fan-out, which is what bounds a server at a paced rate.
//   - mode=burst: broadcasts are queued as fast as DeliverLocal returns;
//     writers then carry many frames per write (the batching the server
//     falls into when it is behind), an upper bound, not a paced capacity.
func BenchmarkBroadcast(b *testing.B) {
	for _, mode := range []string{"lockstep", "burst"} {
		for _, n := range []int{1, 10, 100, 1000} {
			b.Run(fmt.Sprintf("mode=%s/receivers=%d", mode, n), func(b *testing.B) {
				benchmarkBroadcast(b, n, mode == "lockstep")
			})
		}
	}
}

func benchmarkBroadcast(b *testing.B, n int, lockstep bool) {
	r := newFanoutRig(b, n)
	b.SetBytes(int64(len(r.payload)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if lockstep {
		for range b.N {
			r.broadcast(1)
			r.waitRead()
		}
	} else {
		r.broadcast(b.N)
		r.waitRead()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "deliveries/s")
}

// fanoutRig is a server with n members of room /bench, each reading and
// discarding on its own goroutine, counting the bytes still unread.
type fanoutRig struct {
	tb       testing.TB
	s        *Server
	n        int
	payload  []byte
	frameLen int64
	unread   atomic.Int64  // bytes sent to the receivers and not yet read
	allRead  chan struct{} // a receiver brought unread to 0
	timeout  <-chan time.Time
}

func newFanoutRig(tb testing.TB, n int) *fanoutRig {
	r := &fanoutRig{tb: tb, n: n, payload: make([]byte, 128), allRead: make(chan struct{}, 1), timeout: time.After(2 * time.Minute)}
	r.s = startServer(tb, func(c *Config) { c.SendQueue = 1 << 20; c.MaxConns = 2000 })
	r.frameLen = int64(len(frame.Encode(ws.OpBinary, r.payload)))
	for range n {
		c := dial(tb, r.s, "/bench")
		go func() {
			buf := make([]byte, 64<<10)
			for {
				k, err := c.r.Read(buf)
				if r.unread.Add(-int64(k)) <= 0 {
					select {
					case r.allRead <- struct{}{}:
					default:
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
	waitMembers(tb, r.s, "/bench", n)
	return r
}

// broadcast delivers k broadcasts to the room without waiting for them.
func (r *fanoutRig) broadcast(k int) {
	r.unread.Add(r.frameLen * int64(r.n) * int64(k))
	for range k {
		if got := r.s.DeliverLocal("/bench", ws.OpBinary, r.payload); got != r.n {
			r.tb.Fatalf("delivered to %d; want %d", got, r.n)
		}
	}
}

// waitRead blocks until every receiver has read everything sent (no
// spinning: a spinning waiter starves the netpoller).
func (r *fanoutRig) waitRead() {
	for r.unread.Load() > 0 {
		select {
		case <-r.allRead:
		case <-r.timeout:
			r.tb.Fatalf("%d bytes still unread after 2 minutes", r.unread.Load())
		}
	}
}

// BenchmarkRelay measures one client's message relayed back to itself
// through the whole server path: read, validate, fan out, write; with idle
// parking (the connection goes back to the poller after every message) and
// without (a reader goroutine blocked in Read).
func BenchmarkRelay(b *testing.B) {
	for _, park := range []bool{true, false} {
		b.Run(fmt.Sprintf("park-idle=%v", park), func(b *testing.B) {
			s := startServer(b, func(c *Config) { c.ParkIdle = park })
			c := dial(b, s, "/relay")
			msg := masked(true, 0, ws.OpBinary, make([]byte, 128))
			b.ReportAllocs()
			for b.Loop() {
				c.write(msg)
				if _, err := c.readData(5e9); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

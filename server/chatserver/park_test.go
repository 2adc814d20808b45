package chatserver

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/eventually"
)

// readers counts the connection reader goroutines in the process.
func readers() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "chatserver.(*conn).readLoop")
}

// TestParkIdle: with ParkIdle, idle connections hold no reader goroutine
// and still receive, send and answer pings; without it each holds one.
func TestParkIdle(t *testing.T) {
	for _, park := range []bool{true, false} {
		t.Run(fmt.Sprintf("park-idle=%v", park), func(t *testing.T) {
			room := fmt.Sprintf("/park-%v", park)
			s := startServer(t, func(c *Config) { c.ParkIdle = park; c.PingInterval = 0 })
			var cs []*client
			for range 20 {
				cs = append(cs, dial(t, s, room))
			}
			waitMembers(t, s, room, len(cs))
			want := 0
			if !park {
				want = len(cs)
			}
			// Not parallel: no other test's server runs meanwhile.
			eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
				if got := readers(); got != want {
					return fmt.Errorf("%d reader goroutines with %d idle connections; want %d", got, len(cs), want)
				}
				return nil
			})
			// A parked connection wakes for a message, a ping and EOF.
			cs[3].send(ws.OpText, "hello")
			for i, c := range cs {
				f, err := c.readData(5 * time.Second)
				if err != nil || string(f.Payload) != "hello" {
					t.Fatalf("client %d: %q, %v; want hello", i, f.Payload, err)
				}
			}
			cs[5].send(ws.OpPing, "p")
			if f, err := cs[5].read(5 * time.Second); err != nil || f.Header.OpCode != ws.OpPong || string(f.Payload) != "p" {
				t.Fatalf("ping on a parked connection: %v %q %v; want pong p", f.Header.OpCode, f.Payload, err)
			}
			cs[7].nc.Close()
			waitMembers(t, s, room, len(cs)-1)
		})
	}
}

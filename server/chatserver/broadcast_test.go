package chatserver

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/internal/eventually"
)

// TestBroadcast: every message reaches every member of its room exactly
// once, the sender included, in per-sender order, with its opcode; other
// rooms get nothing.
func TestBroadcast(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	const members, perSender = 5, 30
	var room []*client
	for range members {
		room = append(room, dial(t, s, "/a?x=1")) // query is not part of the room
	}
	other := dial(t, s, "/b")
	waitMembers(t, s, "/a", members)

	var wg sync.WaitGroup
	for i, c := range room {
		wg.Go(func() {
			for n := range perSender {
				op, payload := ws.OpText, fmt.Sprintf("s%d-%d", i, n)
				if n%2 == 1 {
					op, payload = ws.OpBinary, fmt.Sprintf("s%d-%d\x00bin", i, n)
				}
				c.write(masked(true, 0, op, []byte(payload)))
			}
		})
	}
	wg.Wait()
	for r, c := range room {
		next := make([]int, members)
		for range members * perSender {
			f, err := c.readData(5 * time.Second)
			if err != nil {
				t.Fatalf("receiver %d: %v", r, err)
			}
			var i, n int
			if _, err := fmt.Sscanf(string(f.Payload), "s%d-%d", &i, &n); err != nil {
				t.Fatalf("receiver %d: unexpected payload %q", r, f.Payload)
			}
			if n != next[i] {
				t.Fatalf("receiver %d: from sender %d got #%d; want #%d (order or duplicate)", r, i, n, next[i])
			}
			next[i]++
			wantOp := ws.OpText
			if n%2 == 1 {
				wantOp = ws.OpBinary
				if !bytes.HasSuffix(f.Payload, []byte("\x00bin")) {
					t.Fatalf("binary payload changed: %q", f.Payload)
				}
			}
			if f.Header.OpCode != wantOp {
				t.Fatalf("receiver %d: opcode %v for %q; want %v", r, f.Header.OpCode, f.Payload, wantOp)
			}
		}
	}
	// Room isolation: /b must not have received anything; a message of its
	// own arrives first.
	other.send(ws.OpText, "only b")
	if f, err := other.readData(5 * time.Second); err != nil || string(f.Payload) != "only b" {
		t.Fatalf("room /b got %q, %v; want its own message only", f.Payload, err)
	}
	if got := metric(t, s, "wsbench_messages_in_total"); got != members*perSender+1 {
		t.Errorf("messages_in = %v; want %d", got, members*perSender+1)
	}
}

func waitMembers(t testing.TB, s *Server, room string, n int) {
	t.Helper()
	eventually.True(t, 5*time.Second, 5*time.Millisecond, func() error {
		if got := len(s.hub.snapshot(room, nil)); got != n {
			return fmt.Errorf("room %q has %d members; want %d", room, got, n)
		}
		return nil
	})
}

func TestAppHeartbeat(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("app-heartbeat=%v", on), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, func(c *Config) { c.AppHeartbeat = on })
			a, b := dial(t, s, "/hb"), dial(t, s, "/hb")
			waitMembers(t, s, "/hb", 2)
			a.send(ws.OpText, AppPing)
			a.send(ws.OpText, "after")
			want := []string{AppPong, "after"}
			if !on {
				want = []string{AppPing, "after"}
			}
			for i, w := range want {
				f, err := a.readData(5 * time.Second)
				if err != nil || string(f.Payload) != w {
					t.Fatalf("sender message %d = %q, %v; want %q", i, f.Payload, err, w)
				}
			}
			f, err := b.readData(5 * time.Second)
			wantB := "after"
			if !on {
				wantB = AppPing
			}
			if err != nil || string(f.Payload) != wantB {
				t.Fatalf("other member got %q, %v; want %q", f.Payload, err, wantB)
			}
		})
	}
}

// TestSlowConsumer: a member that stops reading is closed with 1008 while
// the others receive everything.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.SendQueue = 4; c.WriteTimeout = 10 * time.Second })
	const fast, maxMsgs, size = 2, 3000, 60 << 10
	slow := dial(t, s, "/slow")
	var readers []*client
	for range fast {
		readers = append(readers, dial(t, s, "/slow"))
	}
	sender := dial(t, s, "/slow")
	waitMembers(t, s, "/slow", fast+2)

	// Lockstep: the next message is sent when every fast member has the
	// previous one, so only the member that stopped reading falls behind.
	// Send until the stalled member's socket buffers are full and its queue
	// overflows (how much the kernel buffers depends on its settings).
	payload := make([]byte, size)
	for n := 0; metric(t, s, `wsbench_slow_consumer_closes_total{reason="queue"}`) == 0; n++ {
		if n == maxMsgs {
			t.Fatalf("no slow consumer close after %d messages of %d bytes", n, size)
		}
		payload[0] = byte(n)
		sender.write(masked(true, 0, ws.OpBinary, payload))
		for i, c := range append(readers, sender) {
			f, err := c.readData(10 * time.Second)
			if err != nil {
				t.Fatalf("fast member %d, message %d: %v", i, n, err)
			}
			if f.Header.OpCode != ws.OpBinary || len(f.Payload) != size || f.Payload[0] != byte(n) {
				t.Fatalf("fast member %d, message %d: got op %v len %d", i, n, f.Header.OpCode, len(f.Payload))
			}
		}
	}
	eventually.True(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := metric(t, s, `wsbench_slow_consumer_closes_total{reason="queue"}`); got != 1 {
			return fmt.Errorf("slow consumer closes = %v; want 1", got)
		}
		return nil
	})
	if code, reason := slow.expectClose(10 * time.Second); code != 1008 || reason != "slow consumer" {
		t.Fatalf("slow member close = %d %q; want 1008 \"slow consumer\"", code, reason)
	}
	slow.send(ws.OpClose, closeBody(1008, ""))
	slow.expectEOF(5 * time.Second)
}

// TestMemberOnceUpgraded: a client that has read the 101 is already a
// member: a message sent right after it connects reaches it, with no wait.
func TestMemberOnceUpgraded(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for i := range 20 {
		room := fmt.Sprintf("/join%d", i)
		a := dial(t, s, room)
		b := dial(t, s, room)
		a.send(ws.OpText, "first")
		if f, err := b.readData(5 * time.Second); err != nil || string(f.Payload) != "first" {
			t.Fatalf("round %d: newest member got %q, %v; want the message sent after its 101", i, f.Payload, err)
		}
	}
}

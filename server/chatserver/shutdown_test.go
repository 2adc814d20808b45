package chatserver

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestShutdownUnderLoad: Shutdown while 16 KiB broadcasts stream to every
// member. Every client reads only whole, intact messages (no frame cut in
// the middle, per-sender order kept) and then a 1001 close frame; after
// the clients answer, Shutdown returns.
func TestShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) {
		c.ShutdownGrace = 10 * time.Second
		c.SendQueue = 4096
		c.PingInterval = 0
	})
	const members, senders, size = 12, 3, 16 << 10
	var cs []*client
	for range members {
		cs = append(cs, dial(t, s, "/load"))
	}
	waitMembers(t, s, "/load", members)

	// Senders write messages whose payload is: sender id, sequence number,
	// then a fill byte derived from both, so a cut or mixed frame shows.
	stop := make(chan struct{})
	var sending sync.WaitGroup
	for id := range senders {
		sending.Add(1)
		go func() {
			defer sending.Done()
			for seq := uint32(0); ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				p := make([]byte, size)
				binary.BigEndian.PutUint32(p[0:], uint32(id))
				binary.BigEndian.PutUint32(p[4:], seq)
				for i := 8; i < size; i++ {
					p[i] = byte(id*31) ^ byte(seq)
				}
				cs[id].nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := cs[id].nc.Write(masked(true, 0, ws.OpBinary, p)); err != nil {
					return // the server closed: shutdown is under way
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}

	results := make(chan error, members)
	counts := make([]int, members)
	for k, c := range cs {
		go func() {
			next := make(map[uint32]uint32)
			for {
				f, err := c.read(10 * time.Second)
				if err != nil {
					results <- fmt.Errorf("client %d after %d messages: %v", k, counts[k], err)
					return
				}
				switch f.Header.OpCode {
				case ws.OpBinary:
					if err := checkLoadMessage(f.Payload, size, next); err != nil {
						results <- fmt.Errorf("client %d, message %d: %v", k, counts[k]+1, err)
						return
					}
					counts[k]++
				case ws.OpClose:
					code := binary.BigEndian.Uint16(append(f.Payload, 0, 0))
					if len(f.Payload) < 2 || code != 1001 {
						results <- fmt.Errorf("client %d: close %x; want 1001", k, f.Payload)
						return
					}
					c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
					c.nc.Write(masked(true, 0, ws.OpClose, []byte(closeBody(1001, ""))))
					results <- nil
					return
				}
			}
		}()
	}

	time.Sleep(300 * time.Millisecond) // traffic in flight
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	for range members {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	close(stop)
	sending.Wait()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after every client answered 1001")
	}
	t.Logf("messages read before 1001, per client: %v", counts)
	for k, n := range counts {
		if n == 0 {
			t.Errorf("client %d read no message before 1001: the test did not load the server", k)
		}
	}
}

// checkLoadMessage verifies one message of TestShutdownUnderLoad: whole,
// intact, and next in its sender's order (next holds the expected
// sequence number per sender).
func checkLoadMessage(p []byte, size int, next map[uint32]uint32) error {
	if len(p) != size {
		return fmt.Errorf("%d bytes; want %d", len(p), size)
	}
	id, seq := binary.BigEndian.Uint32(p[0:]), binary.BigEndian.Uint32(p[4:])
	fill := byte(id*31) ^ byte(seq)
	for i := 8; i < size; i++ {
		if p[i] != fill {
			return fmt.Errorf("sender %d seq %d: byte %d is %#x; want %#x (message damaged)", id, seq, i, p[i], fill)
		}
	}
	if seq != next[id] {
		return fmt.Errorf("sender %d: seq %d; want %d (order or loss)", id, seq, next[id])
	}
	next[id] = seq + 1
	return nil
}

//go:build linux

package client

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/eventually"
	"golang.org/x/sys/unix"
)

// tcpPair returns a client Conn with kernel receive timestamps and the
// server side of its loopback TCP connection.
func tcpPair(t *testing.T) (*Conn, *RxStamps, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); srv.Close() })
	c := &Conn{Conn: nc}
	rx, err := EnableRxTimestamps(c)
	if err != nil {
		t.Fatalf("EnableRxTimestamps: %v", err)
	}
	// The kernel turns receive stamping on in deferred work: segments
	// right after the setsockopt may come unstamped. Wait for a stamp.
	eventually.True(t, 5*time.Second, time.Millisecond, func() error {
		var b [1]byte
		if _, err := srv.Write(b[:]); err != nil {
			return err
		}
		if _, err := io.ReadFull(c.Reader, b[:]); err != nil {
			return err
		}
		if rx.StampAt(c.Reader.Buffered()) == 0 {
			return errors.New("no kernel receive stamp yet")
		}
		return nil
	})
	rx.Stamped, rx.Unstamped = 0, 0
	return c, rx, srv
}

// TestRxStampIsArrivalNotReadOut writes to the socket, waits 50 ms, then
// reads: the stamp must be the time of the write, not of the read.
func TestRxStampIsArrivalNotReadOut(t *testing.T) {
	t.Parallel()
	c, rx, srv := tcpPair(t)
	var buf [64]byte
	for i := range 3 { // the second and third read are stamped as the first
		before := time.Now().UnixNano()
		if _, err := srv.Write(buf[:]); err != nil {
			t.Fatal(err)
		}
		after := time.Now().UnixNano()
		time.Sleep(50 * time.Millisecond) // the reader is late
		if _, err := io.ReadFull(c.Reader, buf[:]); err != nil {
			t.Fatal(err)
		}
		read := time.Now().UnixNano()
		ns := rx.StampAt(c.Reader.Buffered())
		if ns < before || ns > after || read-ns < 40e6 {
			t.Errorf("read %d: stamp %d; want between the write's %d and %d, about 50 ms before the read at %d", i, ns, before, after, read)
		}
	}
	if rx.Stamped != 3 || rx.Unstamped != 0 {
		t.Errorf("stamped %d, unstamped %d reads; want 3 and 0", rx.Stamped, rx.Unstamped)
	}
	srv.Close()
	if _, err := c.Reader.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("read after the peer closed: %v; want EOF", err)
	}
}

// TestRxStampsAllocateNothing reads stamped data in a loop.
func TestRxStampsAllocateNothing(t *testing.T) {
	c, rx, srv := tcpPair(t)
	var out, in [64]byte
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := srv.Write(out[:]); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c.Reader, in[:]); err != nil {
			t.Fatal(err)
		}
		_ = rx.StampAt(c.Reader.Buffered())
	})
	if allocs != 0 {
		t.Errorf("a stamped read allocates %v times; want 0", allocs)
	}
}

func TestStampAtRing(t *testing.T) {
	t.Parallel()
	var s RxStamps
	for i := int64(1); i <= 3; i++ {
		s.note(100, i) // reads end at 100, 200, 300, stamped 1, 2, 3
	}
	for _, tc := range []struct {
		buffered int
		want     int64
	}{{0, 3}, {99, 3}, {100, 2}, {150, 2}, {200, 1}, {299, 1}, {300, 0}} {
		if got := s.StampAt(tc.buffered); got != tc.want {
			t.Errorf("StampAt(%d) = %d; want %d", tc.buffered, got, tc.want)
		}
	}
	for i := int64(4); i <= 3+rxRing; i++ { // the first reads leave the ring
		s.note(100, i)
	}
	if got := s.StampAt(100 * rxRing); got != 0 {
		t.Errorf("StampAt(a read older than the ring) = %d; want 0", got)
	}
	if got := s.StampAt(100*rxRing - 1); got != 4 { // bytes 300…399
		t.Errorf("StampAt(the oldest read in the ring) = %d; want 4", got)
	}
}

// FuzzParseStamp feeds arbitrary control-message bytes to the
// SCM_TIMESTAMPING parser: it must never read out of bounds, and a
// well-formed stamp must come back exactly.
func FuzzParseStamp(f *testing.F) {
	stamp := func(level, typ int32, sec, nsec uint64) []byte {
		b := make([]byte, 16+48)
		binary.NativeEndian.PutUint64(b[0:], uint64(len(b)))
		binary.NativeEndian.PutUint32(b[8:], uint32(level))
		binary.NativeEndian.PutUint32(b[12:], uint32(typ))
		binary.NativeEndian.PutUint64(b[16:], sec)
		binary.NativeEndian.PutUint64(b[24:], nsec)
		return b
	}
	good := stamp(unix.SOL_SOCKET, unix.SCM_TIMESTAMPING, 1_796_000_000, 123)
	if got := parseStamp(good); got != 1_796_000_000*1e9+123 {
		f.Fatalf("parseStamp(one stamp) = %d; want %d", got, int64(1_796_000_000*1e9+123))
	}
	f.Add(good)
	f.Add(append(stamp(unix.SOL_SOCKET, 99, 1, 1), good...))
	f.Add(good[:20])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = parseStamp(b)
	})
}

package receive

import (
	"bufio"
	"bytes"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/client"
)

// sink is a net.Conn whose writes succeed and vanish.
type sink struct{ net.Conn }

func (sink) Write(p []byte) (int, error) { return len(p), nil }

// FuzzReadFrame feeds arbitrary server bytes to a Reader: it must never
// panic, and it must stop with an error at the end of the input.
func FuzzReadFrame(f *testing.F) {
	now := time.Now().UnixNano()
	f.Add(frame(ws.OpBinary, true, message(42, 0, 0, now, 64)))
	f.Add(append(frame(ws.OpBinary, false, message(42, 1, 0, now, 40)[:10]), frame(ws.OpContinuation, true, message(42, 1, 0, now, 40)[10:])...))
	f.Add(frame(ws.OpText, true, []byte("__pong__")))
	f.Add(frame(ws.OpPing, true, []byte("x")))
	f.Add(frame(ws.OpClose, true, []byte{3, 232}))
	f.Add([]byte{0x82, 0x7f, 0xff, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		stats := NewStats(1)
		stats.Start(testWindow(2, 0, 16))
		r := NewReader(&client.Conn{Conn: sink{}, Reader: bufio.NewReader(bytes.NewReader(in))}, stats, 0)
		done := make(chan error, 1)
		go func() { done <- r.Run() }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Run returned nil without a closing handshake")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not stop at the end of the input")
		}
		if r.Tracker.Delivered > int64(len(in)) {
			t.Errorf("delivered %d from %d bytes", r.Tracker.Delivered, len(in))
		}
	})
}

// FuzzReadFrameText is FuzzReadFrame for --payload text with rooms,
// --expect others, --ignore and permessage-deflate: arbitrary server bytes
// (compressed or not) never panic the Reader, and it stops at the end.
func FuzzReadFrameText(f *testing.F) {
	now := time.Now().UnixNano()
	f.Add(frame(ws.OpText, true, envelope(42, 0, 0, now)))
	z := compressed(envelope(42, 1, 0, now))
	zf := frame(ws.OpText, true, z)
	zf[0] |= 0x40 // RSV1
	f.Add(zf)
	f.Add(append([]byte{0xc1, 0x05}, "xxxxx"...))
	f.Add(frame(ws.OpText, true, []byte(`{"type":"pong"}`)))
	f.Fuzz(func(t *testing.T, in []byte) {
		stats := NewStats(1)
		w := testWindow(2, 0, 16)
		w.Rooms, w.ExpectOthers = 2, true
		stats.Start(w)
		r := NewReaderWith(&client.Conn{Conn: sink{}, Reader: bufio.NewReader(bytes.NewReader(in)), Deflate: true}, stats, 0,
			Options{Text: true, ScanBytes: 256, Self: 0, Ignore: regexp.MustCompile(`pong`), Await: regexp.MustCompile(`joined`)})
		done := make(chan error, 1)
		go func() { done <- r.Run() }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Run returned nil without a closing handshake")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not stop at the end of the input")
		}
		if r.Tracker.Delivered+r.Unexpected+r.Ignored+r.Foreign > int64(len(in)) {
			t.Errorf("%d messages from %d bytes", r.Tracker.Delivered+r.Unexpected+r.Ignored+r.Foreign, len(in))
		}
	})
}

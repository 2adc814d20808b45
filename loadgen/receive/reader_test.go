package receive

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/payload"
	"github.com/wsbench/wsbench/loadgen/timetable"
)

// frame returns an unmasked server frame.
func frame(op ws.OpCode, fin bool, p []byte) []byte {
	var b bytes.Buffer
	_ = ws.WriteHeader(&b, ws.Header{Fin: fin, OpCode: op, Length: int64(len(p))})
	b.Write(p)
	return b.Bytes()
}

func message(run uint64, sender uint32, seq uint64, intended int64, size int) []byte {
	p := make([]byte, size)
	_ = payload.Encode(p, payload.Header{RunID: run, Sender: sender, Seq: seq, Intended: intended})
	return p
}

// loop is an endless reader cycling over data.
type loop struct {
	data []byte
	off  int
}

func (l *loop) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

func testWindow(senders int, lo, hi uint64) Window {
	return Window{RunID: 42, Table: timetable.Timetable{Start: time.Now(), Rate: 1000, Senders: senders}, Lo: lo, Hi: hi}
}

func TestReaderCountsAndIgnoresForeign(t *testing.T) {
	t.Parallel()
	stats := NewStats(2)
	stats.Start(testWindow(2, 0, 10))
	now := time.Now().UnixNano()
	var in bytes.Buffer
	in.Write(frame(ws.OpBinary, true, message(42, 0, 0, now, 64)))
	in.Write(frame(ws.OpText, true, []byte("server push: 0.5")))
	in.Write(frame(ws.OpText, true, []byte("__pong__")))
	in.Write(frame(ws.OpBinary, true, message(7, 0, 1, now, 64)))   // other run
	in.Write(frame(ws.OpBinary, true, message(42, 9, 1, now, 64)))  // sender out of range
	in.Write(frame(ws.OpBinary, true, message(42, 1, 0, now, 300))) // 16-bit length
	// A fragmented message: header split over three frames.
	m := message(42, 0, 1, now, 40)
	in.Write(frame(ws.OpBinary, false, m[:5]))
	in.Write(frame(ws.OpContinuation, false, m[5:33]))
	in.Write(frame(ws.OpContinuation, true, m[33:]))
	in.Write(frame(ws.OpBinary, true, message(42, 0, 1, now, 64)))  // duplicate
	in.Write(frame(ws.OpBinary, true, message(42, 1, 20, now, 64))) // outside the window
	r := NewReader(&client.Conn{Reader: bufio.NewReader(&in)}, stats, 0)
	if err := r.Run(); !errors.Is(err, io.EOF) {
		t.Fatalf("Run() = %v; want io.EOF at the end of input", err)
	}
	if r.Tracker.Delivered != 4 || r.Tracker.Duplicated != 1 || r.Foreign != 4 {
		t.Errorf("delivered/dup/foreign = %d/%d/%d; want 4/1/4", r.Tracker.Delivered, r.Tracker.Duplicated, r.Foreign)
	}
	if got := stats.Latency().TotalCount(); got != 3 {
		t.Errorf("latency count = %d; want 3 (first deliveries only)", got)
	}
	iv := stats.Tick()
	if iv.Deliveries != 5 || iv.Delivered != 4 || iv.Foreign != 4 {
		t.Errorf("Tick() = %+v; want 5 deliveries, 4 measured, 4 foreign", iv)
	}
	last := stats.LastReceipts()
	if last[0] == 0 || last[1] == 0 || last[2] == 0 || last[3] != 0 {
		t.Errorf("LastReceipts()[:4] = %v; want slots 0,1,2 set and 3 not", last[:4])
	}
}

func TestReaderAnswersPingAndClose(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	stats := NewStats(1)
	r := NewReader(&client.Conn{Conn: a, Reader: bufio.NewReader(a)}, stats, 0)
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	_, _ = b.Write(frame(ws.OpPing, true, []byte("hi")))
	br := bufio.NewReader(b)
	h, err := ws.ReadHeader(br)
	if err != nil || h.OpCode != ws.OpPong || !h.Masked || h.Length != 2 {
		t.Fatalf("answer to ping = %+v, %v; want a masked 2-byte pong", h, err)
	}
	p := make([]byte, 2)
	_, _ = io.ReadFull(br, p)
	ws.Cipher(p, h.Mask, 0)
	if string(p) != "hi" {
		t.Errorf("pong payload = %q; want %q", p, "hi")
	}
	body := make([]byte, 2)
	binary.BigEndian.PutUint16(body, 1001)
	_, _ = b.Write(frame(ws.OpClose, true, body))
	h, err = ws.ReadHeader(br)
	if err != nil || h.OpCode != ws.OpClose || h.Length != 2 {
		t.Fatalf("answer to close = %+v, %v; want a close frame", h, err)
	}
	_, _ = io.ReadFull(br, p)
	ws.Cipher(p, h.Mask, 0)
	if code := binary.BigEndian.Uint16(p); code != 1001 {
		t.Errorf("echoed close code = %d; want 1001", code)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) || r.CloseCode != 1001 {
		t.Errorf("Run() = %v, close code %d; want ErrServerClosed, 1001", err, r.CloseCode)
	}
}

func TestReaderRefusesMaskedFrames(t *testing.T) {
	t.Parallel()
	var in bytes.Buffer
	_ = ws.WriteHeader(&in, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Length: 1})
	in.WriteByte(0)
	r := NewReader(&client.Conn{Reader: bufio.NewReader(&in)}, NewStats(1), 0)
	if err := r.ReadFrame(); !errors.Is(err, ErrProtocol) {
		t.Errorf("ReadFrame(masked) = %v; want ErrProtocol", err)
	}
}

// BenchmarkReadFrame measures the steady-state receive path: one 64-byte
// measured broadcast per op from 100 senders. allocs/op must be 0.
func BenchmarkReadFrame(b *testing.B) {
	const senders, slots = 100, 1 << 16
	stats := NewStats(4)
	stats.Start(testWindow(senders, 0, slots))
	now := time.Now().UnixNano()
	var data []byte
	for n := uint64(0); n < slots; n++ {
		data = append(data, frame(ws.OpBinary, true, message(42, uint32(n%senders), n/senders, now, 64))...)
	}
	r := NewReader(&client.Conn{Reader: bufio.NewReaderSize(&loop{data: data}, client.ReadBufferSize)}, stats, 0)
	// Deliver every slot once, so that the measured loop runs over
	// duplicates as well as the bitmap allocated on first use.
	for range slots {
		if err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReadFrameDoesNotAllocate(t *testing.T) {
	res := testing.Benchmark(BenchmarkReadFrame)
	if a := res.AllocsPerOp(); a != 0 {
		t.Errorf("ReadFrame allocates %d times per message; want 0", a)
	}
}

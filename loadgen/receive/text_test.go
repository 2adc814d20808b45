package receive

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/payload"
)

// envelope is what a JSON-wrapping chat server sends: about 200 bytes
// with the token inside the text field.
func envelope(run uint64, sender uint32, seq uint64, intended int64) []byte {
	tok := payload.AppendToken(nil, payload.Header{RunID: run, Sender: sender, Seq: seq, Intended: intended})
	return fmt.Appendf(nil, `{"from":"::ffff:127.0.0.1:51234","time":1764700000123,"text":"{\"type\":\"msg\",\"room\":\"r0\",\"text\":\"%s\"}","n":%d}`, tok, seq)
}

func TestReaderTextExpectOthersRoomsIgnore(t *testing.T) {
	t.Parallel()
	stats := NewStats(1)
	w := testWindow(4, 0, 16)
	w.Rooms, w.ExpectOthers = 2, true
	stats.Start(w)
	now := time.Now().UnixNano()
	var in bytes.Buffer
	in.Write(frame(ws.OpText, true, []byte(`{"type":"joined","room":"0"}`))) // awaited: ignored
	in.Write(frame(ws.OpText, true, envelope(42, 2, 0, now)))                // slot 2, room 0: data
	in.Write(frame(ws.OpBinary, true, envelope(42, 0, 0, now)))              // own copy (self 0): unexpected
	in.Write(frame(ws.OpText, true, envelope(42, 1, 0, now)))                // slot 1, room 1: unexpected
	in.Write(frame(ws.OpText, true, []byte(`{"type":"pong"}`)))              // ignored
	in.Write(frame(ws.OpText, true, []byte(`{"type":"user left"}`)))         // foreign
	r := NewReaderWith(&client.Conn{Reader: bufio.NewReader(&in)}, stats, 0, Options{
		Text: true, Room: 0, Self: 0,
		Ignore: regexp.MustCompile(`"pong"`), Await: regexp.MustCompile(`"joined"`),
	})
	if err := r.Run(); !errors.Is(err, io.EOF) {
		t.Fatalf("Run() = %v; want io.EOF", err)
	}
	select {
	case <-r.Joined():
	default:
		t.Error("Joined() not closed after the awaited message")
	}
	if r.Tracker.Delivered != 1 || r.Unexpected != 2 || r.Ignored != 2 || r.Foreign != 1 || r.OwnUnique != 0 {
		t.Errorf("delivered/unexpected/ignored/foreign/own = %d/%d/%d/%d/%d; want 1/2/2/1/0",
			r.Tracker.Delivered, r.Unexpected, r.Ignored, r.Foreign, r.OwnUnique)
	}
	if h := stats.RoomLatency(0); h == nil || h.TotalCount() != 1 {
		t.Errorf("room 0 latency = %v; want 1 value", h)
	}
}

func TestReaderScanBytesBound(t *testing.T) {
	t.Parallel()
	stats := NewStats(1)
	stats.Start(testWindow(1, 0, 4))
	now := time.Now().UnixNano()
	late := append(bytes.Repeat([]byte("x"), 100), envelope(42, 0, 0, now)...)
	var in bytes.Buffer
	in.Write(frame(ws.OpText, true, late))
	r := NewReaderWith(&client.Conn{Reader: bufio.NewReader(&in)}, stats, 0, Options{Text: true, ScanBytes: 64, Self: -1})
	_ = r.Run()
	if r.Foreign != 1 || r.Tracker.Delivered != 0 {
		t.Errorf("token past --scan-bytes: foreign %d delivered %d; want 1, 0", r.Foreign, r.Tracker.Delivered)
	}
}

// compressed returns p as a permessage-deflate frame payload without
// context takeover.
func compressed(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	_, _ = w.Write(p)
	_ = w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func TestReaderDeflate(t *testing.T) {
	t.Parallel()
	stats := NewStats(1)
	stats.Start(testWindow(2, 0, 16))
	now := time.Now().UnixNano()
	zframe := func(p []byte) []byte {
		var b bytes.Buffer
		z := compressed(p)
		_ = ws.WriteHeader(&b, ws.Header{Fin: true, OpCode: ws.OpText, Rsv: ws.Rsv(true, false, false), Length: int64(len(z))})
		b.Write(z)
		return b.Bytes()
	}
	var in bytes.Buffer
	in.Write(zframe(envelope(42, 0, 0, now)))
	in.Write(frame(ws.OpText, true, envelope(42, 1, 0, now))) // uncompressed is allowed too
	in.Write(zframe(append(envelope(42, 0, 1, now), bytes.Repeat([]byte("y"), 10000)...)))
	r := NewReaderWith(&client.Conn{Reader: bufio.NewReader(&in), Deflate: true}, stats, 0, Options{Text: true, Self: -1})
	if err := r.Run(); !errors.Is(err, io.EOF) {
		t.Fatalf("Run() = %v; want io.EOF", err)
	}
	if r.Tracker.Delivered != 3 || r.Foreign != 0 {
		t.Errorf("delivered %d foreign %d; want 3, 0", r.Tracker.Delivered, r.Foreign)
	}
	in.Reset()
	in.Write(zframe(envelope(42, 0, 2, now)))
	r = NewReaderWith(&client.Conn{Reader: bufio.NewReader(&in)}, stats, 0, Options{Text: true, Self: -1})
	if err := r.ReadFrame(); !errors.Is(err, ErrProtocol) {
		t.Errorf("compressed frame without negotiation: %v; want ErrProtocol", err)
	}
}

// BenchmarkReadFrameJSON is BenchmarkReadFrame for --payload text: a
// ~200-byte JSON envelope around the token, found by scanning. allocs/op
// must be 0.
func BenchmarkReadFrameJSON(b *testing.B) {
	const senders, slots = 100, 1 << 14
	stats := NewStats(4)
	stats.Start(testWindow(senders, 0, slots))
	now := time.Now().UnixNano()
	var data []byte
	for n := uint64(0); n < slots; n++ {
		data = append(data, frame(ws.OpText, true, envelope(42, uint32(n%senders), n/senders, now))...)
	}
	r := NewReaderWith(&client.Conn{Reader: bufio.NewReaderSize(&loop{data: data}, client.ReadBufferSize)}, stats, 0,
		Options{Text: true, Self: -1, Ignore: regexp.MustCompile(`^\{"type":"pong"`)})
	for range slots {
		if err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
	if r.Foreign != 0 {
		b.Fatalf("%d envelopes counted foreign", r.Foreign)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data) / slots))
	b.ResetTimer()
	for b.Loop() {
		if err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReadFrameJSONDoesNotAllocate(t *testing.T) {
	if n := len(envelope(42, 1, 1, 1)); n < 180 || n > 240 {
		t.Fatalf("envelope is %d bytes; the benchmark is meant for ~200", n)
	}
	res := testing.Benchmark(BenchmarkReadFrameJSON)
	if a := res.AllocsPerOp(); a != 0 {
		t.Errorf("ReadFrame (JSON envelope) allocates %d times per message; want 0", a)
	}
}

// BenchmarkReadFrameDeflate is BenchmarkReadFrameJSON with every envelope
// compressed (permessage-deflate, no context takeover).
func BenchmarkReadFrameDeflate(b *testing.B) {
	const senders, slots = 100, 1 << 12
	stats := NewStats(4)
	stats.Start(testWindow(senders, 0, slots))
	now := time.Now().UnixNano()
	var data []byte
	for n := uint64(0); n < slots; n++ {
		z := compressed(envelope(42, uint32(n%senders), n/senders, now))
		var f bytes.Buffer
		_ = ws.WriteHeader(&f, ws.Header{Fin: true, OpCode: ws.OpText, Rsv: ws.Rsv(true, false, false), Length: int64(len(z))})
		f.Write(z)
		data = append(data, f.Bytes()...)
	}
	r := NewReaderWith(&client.Conn{Reader: bufio.NewReaderSize(&loop{data: data}, client.ReadBufferSize), Deflate: true}, stats, 0, Options{Text: true, Self: -1})
	for range slots {
		if err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
	if r.Foreign != 0 || r.Tracker.Delivered != slots {
		b.Fatalf("foreign %d delivered %d; want 0, %d", r.Foreign, r.Tracker.Delivered, slots)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

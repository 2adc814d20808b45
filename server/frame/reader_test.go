package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// clientFrame builds one masked client frame.
func clientFrame(fin bool, rsv byte, op ws.OpCode, payload []byte) []byte {
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Length: int64(len(payload)), Mask: [4]byte{0xa, 0xb, 0xc, 0xd}}
	var buf bytes.Buffer
	ws.WriteHeader(&buf, h)
	p := append([]byte(nil), payload...)
	ws.Cipher(p, h.Mask, 0)
	buf.Write(p)
	return buf.Bytes()
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func TestReaderMessages(t *testing.T) {
	t.Parallel()
	type msg struct {
		op ws.OpCode
		p  string
	}
	tests := []struct {
		name string
		in   []byte
		want []msg
	}{
		{"text", clientFrame(true, 0, ws.OpText, []byte("hi")), []msg{{ws.OpText, "hi"}}},
		{"empty binary", clientFrame(true, 0, ws.OpBinary, nil), []msg{{ws.OpBinary, ""}}},
		{"16-bit length", clientFrame(true, 0, ws.OpBinary, bytes.Repeat([]byte("x"), 300)), []msg{{ws.OpBinary, string(bytes.Repeat([]byte("x"), 300))}}},
		{"fragments with ping between", cat(
			clientFrame(false, 0, ws.OpText, []byte("he\xc3")),
			clientFrame(true, 0, ws.OpPing, []byte("p")),
			clientFrame(false, 0, ws.OpContinuation, []byte("\xa9l")),
			clientFrame(true, 0, ws.OpContinuation, []byte("lo")),
		), []msg{{ws.OpPing, "p"}, {ws.OpText, "hello"[:2] + "é" + "llo"}}},
		{"close", clientFrame(true, 0, ws.OpClose, []byte{3, 0xe8}), []msg{{ws.OpClose, "\x03\xe8"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := NewReader(bytes.NewReader(tc.in), 1000)
			for i, w := range tc.want {
				op, p, err := r.ReadMessage()
				if err != nil || op != w.op || string(p) != w.p {
					t.Fatalf("message %d = %v %q %v; want %v %q", i, op, p, err, w.op, w.p)
				}
			}
			if _, _, err := r.ReadMessage(); err != io.EOF {
				t.Fatalf("after the messages: %v; want EOF", err)
			}
		})
	}
}

func TestReaderViolations(t *testing.T) {
	t.Parallel()
	len64 := func(n uint64) []byte {
		b := []byte{0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
		binary.BigEndian.PutUint64(b[2:], n)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		code ws.StatusCode
	}{
		{"unmasked", []byte{0x81, 0x01, 'a'}, 1002},
		{"rsv2", clientFrame(true, 2, ws.OpText, nil), 1002},
		{"opcode 7", clientFrame(true, 0, 7, nil), 1002},
		{"opcode 0xF", clientFrame(true, 0, 0xf, nil), 1002},
		{"fragmented close", clientFrame(false, 0, ws.OpClose, nil), 1002},
		{"pong 126 bytes", clientFrame(true, 0, ws.OpPong, make([]byte, 126)), 1002},
		{"lone continuation", clientFrame(true, 0, ws.OpContinuation, nil), 1002},
		{"binary mid text", cat(clientFrame(false, 0, ws.OpText, nil), clientFrame(true, 0, ws.OpBinary, nil)), 1002},
		{"64-bit top bit", len64(1 << 63), 1002},
		{"64-bit huge", len64(1 << 40), 1009},
		{"over limit", clientFrame(true, 0, ws.OpBinary, make([]byte, 1001)), 1009},
		{"over limit across fragments", cat(clientFrame(false, 0, ws.OpText, make([]byte, 500)), clientFrame(true, 0, ws.OpContinuation, make([]byte, 501))), 1009},
		{"bad UTF-8", clientFrame(true, 0, ws.OpText, []byte("\xc3\x28")), 1007},
		{"UTF-8 incomplete at end", clientFrame(true, 0, ws.OpText, []byte("\xc3")), 1007},
		{"UTF-8 across fragments", cat(clientFrame(false, 0, ws.OpText, []byte("\xf0\x9f")), clientFrame(true, 0, ws.OpContinuation, []byte("\x28"))), 1007},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := NewReader(bytes.NewReader(tc.in), 1000)
			_, _, err := r.ReadMessage()
			var fe *Error
			if !errors.As(err, &fe) || fe.Code != tc.code {
				t.Fatalf("ReadMessage error = %v; want close code %d", err, tc.code)
			}
		})
	}
}

// TestReaderTooBigReadsNothing: a too-big frame is refused from its header,
// before its payload is read.
func TestReaderTooBigReadsNothing(t *testing.T) {
	t.Parallel()
	in := clientFrame(true, 0, ws.OpBinary, make([]byte, 5000))
	br := bytes.NewReader(in)
	_, _, err := NewReader(br, 1000).ReadMessage()
	if fe, ok := err.(*Error); !ok || fe.Code != 1009 {
		t.Fatalf("err = %v; want 1009", err)
	}
	if read := len(in) - br.Len(); read > 14 {
		t.Fatalf("read %d bytes; want only the header", read)
	}
}

func TestParseClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   []byte
		code   ws.StatusCode
		reason string
		err    ws.StatusCode
	}{
		{"empty", nil, 0, "", 0},
		{"1000 with reason", []byte("\x03\xe8bye"), 1000, "bye", 0},
		{"4999", []byte{0x13, 0x87}, 4999, "", 0},
		{"one byte", []byte{3}, 0, "", 1002},
		{"1005", []byte{0x03, 0xed}, 0, "", 1002},
		{"bad reason", []byte("\x03\xe8\xff"), 0, "", 1007},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, reason, err := ParseClose(tc.body)
			if tc.err != 0 {
				if err == nil || err.Code != tc.err {
					t.Fatalf("ParseClose(%q) err = %v; want code %d", tc.body, err, tc.err)
				}
				return
			}
			if err != nil || code != tc.code || reason != tc.reason {
				t.Fatalf("ParseClose(%q) = %d %q %v; want %d %q", tc.body, code, reason, err, tc.code, tc.reason)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		p := bytes.Repeat([]byte{'z'}, n)
		b := Encode(ws.OpBinary, p)
		h, err := ws.ReadHeader(bytes.NewReader(b))
		if err != nil || !h.Fin || h.Masked || h.OpCode != ws.OpBinary || h.Length != int64(n) {
			t.Fatalf("Encode(%d bytes) header = %+v, %v", n, h, err)
		}
		if !bytes.Equal(b[len(b)-n:], p) {
			t.Fatalf("Encode(%d bytes) payload differs", n)
		}
	}
	c := EncodeClose(1000, string(bytes.Repeat([]byte("é"), 100)))
	if len(c) > 2+MaxControlPayload || !utf8.Valid(c[4:]) {
		t.Fatalf("EncodeClose with a long reason: %d bytes, valid UTF-8 %v", len(c), utf8.Valid(c[4:]))
	}
}

// FuzzReader feeds arbitrary bytes (seeded with valid and invalid frames)
// to the Reader: it must never panic, never return a message over the limit
// and never return invalid UTF-8 as text.
func FuzzReader(f *testing.F) {
	f.Add(clientFrame(true, 0, ws.OpText, []byte("hello")))
	f.Add(cat(clientFrame(false, 0, ws.OpText, []byte("\xe2\x82")), clientFrame(true, 0, ws.OpPing, nil), clientFrame(true, 0, ws.OpContinuation, []byte("\xac"))))
	f.Add(clientFrame(true, 0, ws.OpClose, []byte("\x03\xe8ok")))
	f.Add([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add(clientFrame(true, 0, ws.OpBinary, make([]byte, 300)))
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 256
		r := NewReader(bytes.NewReader(in), max)
		for range 100 {
			op, p, err := r.ReadMessage()
			if err != nil {
				return
			}
			switch {
			case op.IsControl() && len(p) > MaxControlPayload:
				t.Fatalf("control frame of %d bytes", len(p))
			case op.IsData() && len(p) > max:
				t.Fatalf("message of %d bytes over the %d limit", len(p), max)
			case op == ws.OpText && !utf8.Valid(p):
				t.Fatalf("invalid UTF-8 text %q", p)
			case op == ws.OpContinuation || op.IsReserved():
				t.Fatalf("returned opcode %v", op)
			case op == ws.OpClose:
				ParseClose(p)
			}
		}
	})
}

func BenchmarkReadMessage(b *testing.B) {
	for _, size := range []int{32, 1024, 16 << 10} {
		p := bytes.Repeat([]byte("a"), size)
		in := clientFrame(true, 0, ws.OpText, p)
		b.Run(sizeName(size), func(b *testing.B) {
			br := bytes.NewReader(in)
			r := NewReader(br, 1<<20)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				br.Reset(in)
				if _, _, err := r.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1024 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}

// TestReaderGrowsWithData: a header that claims a large (allowed) payload
// makes the reader allocate only for the bytes that arrive.
func TestReaderGrowsWithData(t *testing.T) {
	t.Parallel()
	full := clientFrame(true, 0, ws.OpBinary, make([]byte, 1<<20))
	r := NewReader(bytes.NewReader(full[:14+100]), 10<<20) // header + 100 bytes, then EOF
	if _, _, err := r.ReadMessage(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v; want io.ErrUnexpectedEOF", err)
	}
	if c := cap(*r.buf); c > 8192 {
		t.Fatalf("buffer capacity %d after 100 bytes of a 1 MiB frame; want it to follow the data", c)
	}
	// The whole frame still reads correctly.
	r = NewReader(bytes.NewReader(full), 10<<20)
	if op, p, err := r.ReadMessage(); err != nil || op != ws.OpBinary || len(p) != 1<<20 {
		t.Fatalf("ReadMessage = %v, %d bytes, %v", op, len(p), err)
	}
}

// TestReaderSmallFragmentsGrowGeometrically: a message in many small
// fragments grows its buffer by doubling, not by one fragment at a time
// (which copied the whole message once per fragment: Autobahn 9.3.1, 4 MiB
// in 64-byte fragments, took minutes).
func TestReaderSmallFragmentsGrowGeometrically(t *testing.T) {
	const n, size = 1 << 14, 64 // 1 MiB
	var in []byte
	for i := range n {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpBinary
		}
		in = append(in, clientFrame(i == n-1, 0, op, make([]byte, size))...)
	}
	allocs := testing.AllocsPerRun(3, func() {
		r := NewReader(bytes.NewReader(in), 4<<20)
		if _, p, err := r.ReadMessage(); err != nil || len(p) != n*size {
			t.Fatalf("ReadMessage = %d bytes, %v", len(p), err)
		}
	})
	if allocs > 64 {
		t.Errorf("reading 1 MiB in %d fragments allocated %.0f times; want O(log n)", n, allocs)
	}
}

// TestReaderInMessageAndReset: InMessage is true only between the fragments
// of a message (where a server must not hand the Reader back to a pool), and
// Reset starts a new stream with no state from the old one.
func TestReaderInMessageAndReset(t *testing.T) {
	t.Parallel()
	in := cat(
		clientFrame(false, 0, ws.OpText, []byte("ab")),
		clientFrame(true, 0, ws.OpPing, nil),
		clientFrame(true, 0, ws.OpContinuation, []byte("c")),
	)
	r := NewReader(bytes.NewReader(in), 1000)
	if r.InMessage() {
		t.Fatal("InMessage before any frame")
	}
	if op, _, err := r.ReadMessage(); err != nil || op != ws.OpPing {
		t.Fatalf("first = %v %v; want the ping", op, err)
	}
	if !r.InMessage() {
		t.Fatal("InMessage false after a ping between fragments")
	}
	r.Reset(bytes.NewReader(clientFrame(true, 0, ws.OpContinuation, []byte("x"))), 1000)
	if r.InMessage() {
		t.Fatal("InMessage after Reset")
	}
	// The old message is forgotten: a continuation now has nothing to continue.
	if _, _, err := r.ReadMessage(); !errors.Is(err, errNoContinuation) {
		t.Fatalf("continuation after Reset: %v; want %v", err, errNoContinuation)
	}
	r.Reset(bytes.NewReader(clientFrame(true, 0, ws.OpText, []byte("ok"))), 1)
	if _, _, err := r.ReadMessage(); !errors.Is(err, errTooBig) {
		t.Fatalf("2 bytes with max 1 after Reset: %v; want %v", err, errTooBig)
	}
}

// TestDeflateRoundTrip: Inflate restores what Deflate compressed, frames
// with RSV1 read as compressed only when compression is on, and a bomb or
// garbage is refused with 1009 or 1007.
func TestDeflateRoundTrip(t *testing.T) {
	t.Parallel()
	msg := bytes.Repeat([]byte("wsbench "), 1000)
	z := Deflate(msg)
	if got, err := Inflate(z, 1<<20, true); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Inflate(Deflate(%d bytes)) = %d bytes, %v", len(msg), len(got), err)
	}
	in := clientFrame(true, 4, ws.OpText, z)
	r := NewReader(bytes.NewReader(in), 1<<20)
	if _, _, err := r.ReadMessage(); err == nil {
		t.Fatal("RSV1 accepted without SetCompression")
	}
	r = NewReader(bytes.NewReader(cat(in, clientFrame(false, 4, ws.OpText, z), clientFrame(true, 4, ws.OpContinuation, nil))), 1<<20)
	r.SetCompression(true)
	if op, p, err := r.ReadMessage(); err != nil || op != ws.OpText || !r.Compressed() || !bytes.Equal(p, z) {
		t.Fatalf("ReadMessage = %v %d bytes compressed=%v %v", op, len(p), r.Compressed(), err)
	}
	if _, _, err := r.ReadMessage(); err == nil {
		t.Fatal("RSV1 on a continuation frame accepted")
	}
	if _, err := Inflate(Deflate(make([]byte, 1001)), 1000, false); err != errTooBig {
		t.Fatalf("Inflate of a bomb = %v; want errTooBig", err)
	}
	if _, err := Inflate([]byte{0xff, 0xff, 0xff}, 1000, false); err != errBadDeflate {
		t.Fatalf("Inflate of garbage = %v; want errBadDeflate", err)
	}
	if _, err := Inflate(Deflate([]byte("\xed\xa0\x80")), 1000, true); err != errBadUTF8 {
		t.Fatalf("Inflate of invalid UTF-8 text = %v; want errBadUTF8", err)
	}
	if f := EncodeCompressed(ws.OpBinary, z); f[0] != 0xc2 {
		t.Fatalf("EncodeCompressed first byte %#x; want FIN|RSV1|binary", f[0])
	}
}

func FuzzInflate(f *testing.F) {
	f.Add(Deflate([]byte("hello, hello, hello")))
	f.Add([]byte{0xff, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		if out, err := Inflate(p, 4096, true); err == nil && len(out) > 4096 {
			t.Fatalf("Inflate returned %d bytes past its limit", len(out))
		}
	})
}

// BenchmarkDeflate is the per-broadcast cost of permessage-deflate
// (compressed once per message) and the per-message cost of inflating one.
func BenchmarkDeflate(b *testing.B) {
	msg := bytes.Repeat([]byte(`{"user":"wsbench","text":"hello, room"} `), 25) // 1 KiB of chat-like JSON
	z := Deflate(msg)
	b.Run("deflate-1KiB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			Deflate(msg)
		}
	})
	b.Run("inflate-1KiB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := Inflate(z, 1<<20, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package rawclient

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func TestAppendKnownBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Frame
		want []byte
	}{
		{"unmasked text", Frame{Fin: true, Op: ws.OpText, Payload: []byte("Hi")}, []byte{0x81, 0x02, 'H', 'i'}},
		{"rsv and reserved opcode", Frame{Fin: false, Rsv: 5, Op: 0xb}, []byte{0x5b, 0x00}},
		{"masked", Frame{Fin: true, Op: ws.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Payload: []byte{1, 2, 3, 4, 5}},
			[]byte{0x82, 0x85, 1, 2, 3, 4, 0, 0, 0, 0, 4}},
		{"16-bit length", Frame{Fin: true, Op: ws.OpBinary, Payload: make([]byte, 126)}, append([]byte{0x82, 126, 0, 126}, make([]byte, 126)...)},
		{"64-bit length", Frame{Fin: true, Op: ws.OpBinary, Payload: make([]byte, 65536)}, append([]byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, make([]byte, 65536)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.f.Append(nil); !bytes.Equal(got, tc.want) {
				t.Errorf("Append = % x; want % x", trunc(got), trunc(tc.want))
			}
		})
	}
}

func trunc(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		for _, m := range []bool{false, true} {
			f := Frame{Fin: n%2 == 0, Rsv: byte(n % 8), Op: ws.OpCode(n % 16), Masked: m, Payload: bytes.Repeat([]byte{'x'}, n)}
			got, err := ReadFrame(bytes.NewReader(f.Append(nil)))
			if err != nil {
				t.Fatalf("ReadFrame(%d, masked %v): %v", n, m, err)
			}
			if got.Fin != f.Fin || got.Rsv != f.Rsv || got.Op != f.Op || got.Masked != m || !bytes.Equal(got.Payload, f.Payload) || got.NonMinimal {
				t.Fatalf("round trip of %d bytes (masked %v) = %+v", n, m, got.Op)
			}
		}
	}
}

func TestReadFrameFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         []byte
		err        error
		nonMinimal bool
	}{
		{"16-bit length for 5 bytes", []byte{0x82, 126, 0, 5, 1, 2, 3, 4, 5}, nil, true},
		{"64-bit length for 5 bytes", []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5}, nil, true},
		{"top bit set", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 5}, ErrBadLen, false},
		{"too large", []byte{0x82, 127, 0, 0, 0, 0, 0x7f, 0, 0, 0}, ErrTooLarge, false},
		{"truncated header", []byte{0x82, 126, 0}, io.ErrUnexpectedEOF, false},
		{"truncated payload", []byte{0x82, 5, 1}, io.ErrUnexpectedEOF, false},
		{"empty", nil, io.EOF, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := ReadFrame(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("ReadFrame err = %v; want %v", err, tc.err)
			}
			if err == nil && f.NonMinimal != tc.nonMinimal {
				t.Fatalf("NonMinimal = %v; want %v", f.NonMinimal, tc.nonMinimal)
			}
		})
	}
}

func TestParseClose(t *testing.T) {
	t.Parallel()
	if c, r, ok := ParseClose(CloseBody(4999, "bye")); !ok || c != 4999 || r != "bye" {
		t.Errorf("ParseClose(CloseBody(4999, bye)) = %d %q %v", c, r, ok)
	}
	if c, _, ok := ParseClose(nil); !ok || c != 1005 {
		t.Errorf("ParseClose(empty) = %d %v; want 1005 true", c, ok)
	}
	if _, _, ok := ParseClose([]byte{3}); ok {
		t.Error("ParseClose(1 byte) ok; want not ok")
	}
}

func TestAcceptKey(t *testing.T) {
	t.Parallel()
	// The example of RFC 6455 §1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey = %q", got)
	}
}

func TestRequestBytes(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("ws://example.com:81/room?x=1")
	raw, key := Request{Method: "POST", Header: map[string][]string{"Sec-WebSocket-Version": {""}, "Origin": {"http://a"}}}.Bytes(u)
	s := string(raw)
	for _, want := range []string{"POST /room?x=1 HTTP/1.1\r\n", "Host: example.com:81\r\n", "Sec-WebSocket-Key: " + key + "\r\n", "Origin: http://a\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("request lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "Sec-WebSocket-Version") || !strings.HasSuffix(s, "\r\n\r\n") {
		t.Errorf("request:\n%s", s)
	}
	raw, key = Request{Header: map[string][]string{"Sec-WebSocket-Key": {""}}}.Bytes(u)
	if key != "" || strings.Contains(string(raw), "Sec-WebSocket-Key") {
		t.Errorf("removed key still sent (%q):\n%s", key, raw)
	}
}

// FuzzReadFrame: any bytes give a frame or an error, never a panic, and a
// frame read re-encodes to a frame that reads back the same.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0x81, 0x02, 'H', 'i'})
	f.Add([]byte{0x82, 0x85, 1, 2, 3, 4, 0, 0, 0, 0, 4})
	f.Add([]byte{0x82, 126, 0, 5, 1, 2, 3, 4, 5})
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 5})
	f.Add([]byte{0x88, 0x02, 0x03, 0xe8})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ReadFrame(bytes.NewReader(b))
		if err != nil {
			return
		}
		again, err := ReadFrame(bytes.NewReader(fr.Append(nil)))
		if err != nil {
			t.Fatalf("re-encoded frame does not read: %v", err)
		}
		if again.Fin != fr.Fin || again.Rsv != fr.Rsv || again.Op != fr.Op || !bytes.Equal(again.Payload, fr.Payload) {
			t.Fatalf("round trip changed the frame")
		}
		if len(fr.Payload) > MaxReadPayload {
			t.Fatalf("payload of %d bytes over the limit", len(fr.Payload))
		}
	})
}

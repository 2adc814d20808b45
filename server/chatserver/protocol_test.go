package chatserver

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestProtocolViolations(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.MaxMessage = 1000 })
	big64 := []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4} // 64-bit length, top bit set
	unmasked := []byte{0x81, 0x02, 'h', 'i'}
	tests := []struct {
		name string
		send [][]byte
		code ws.StatusCode
	}{
		{"unmasked", [][]byte{unmasked}, 1002},
		{"rsv1", [][]byte{masked(true, 4, ws.OpText, []byte("x"))}, 1002},
		{"rsv3", [][]byte{masked(true, 1, ws.OpBinary, []byte("x"))}, 1002},
		{"reserved data opcode 3", [][]byte{masked(true, 0, 3, nil)}, 1002},
		{"reserved control opcode 0xB", [][]byte{masked(true, 0, 0xb, nil)}, 1002},
		{"fragmented ping", [][]byte{masked(false, 0, ws.OpPing, []byte("a"))}, 1002},
		{"ping over 125 bytes", [][]byte{masked(true, 0, ws.OpPing, make([]byte, 126))}, 1002},
		{"continuation first", [][]byte{masked(true, 0, ws.OpContinuation, []byte("a"))}, 1002},
		{"text inside fragmented message", [][]byte{masked(false, 0, ws.OpText, []byte("a")), masked(true, 0, ws.OpText, []byte("b"))}, 1002},
		{"64-bit length top bit", [][]byte{big64}, 1002},
		{"invalid UTF-8", [][]byte{masked(true, 0, ws.OpText, []byte{'a', 0xff})}, 1007},
		{"surrogate", [][]byte{masked(true, 0, ws.OpText, []byte{0xed, 0xa0, 0x80})}, 1007},
		{"UTF-8 cut at the end", [][]byte{masked(true, 0, ws.OpText, []byte{'a', 0xe2, 0x82})}, 1007},
		{"invalid UTF-8 across fragments", [][]byte{masked(false, 0, ws.OpText, []byte{0xe2}), masked(true, 0, ws.OpContinuation, []byte{0x28, 0xa1})}, 1007},
		{"too big", [][]byte{masked(true, 0, ws.OpBinary, make([]byte, 1001))}, 1009},
		{"too big across fragments", [][]byte{masked(false, 0, ws.OpBinary, make([]byte, 600)), masked(true, 0, ws.OpContinuation, make([]byte, 600))}, 1009},
		{"close body of 1 byte", [][]byte{masked(true, 0, ws.OpClose, []byte{3})}, 1002},
		{"close code 999", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(999, "")))}, 1002},
		{"close code 1004", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(1004, "")))}, 1002},
		{"close code 1005", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(1005, "")))}, 1002},
		{"close code 1006", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(1006, "")))}, 1002},
		{"close code 1015", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(1015, "")))}, 1002},
		{"close code 1016", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(1016, "")))}, 1002},
		{"close code 2999", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(2999, "")))}, 1002},
		{"close code 5000", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(5000, "")))}, 1002},
		{"close reason invalid UTF-8", [][]byte{masked(true, 0, ws.OpClose, []byte(closeBody(1000, "\xff")))}, 1007},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, s, "/proto")
			for _, b := range tc.send {
				c.write(b)
			}
			if code, reason := c.expectClose(5 * time.Second); code != tc.code {
				t.Fatalf("close code = %d %q; want %d", code, reason, tc.code)
			}
			c.expectEOF(5 * time.Second)
		})
	}
}

func TestCloseHandshakeEcho(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tests := []struct {
		name string
		body string
		want ws.StatusCode
	}{
		{"normal", closeBody(1000, "bye"), 1000},
		{"going away", closeBody(1001, ""), 1001},
		{"1013 registered", closeBody(1013, ""), 1013},
		{"application code", closeBody(3000, "app"), 3000},
		{"private code", closeBody(4999, ""), 4999},
		{"empty body", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, s, "/close")
			c.send(ws.OpClose, tc.body)
			if code, _ := c.expectClose(5 * time.Second); code != tc.want {
				t.Fatalf("echoed close code = %d; want %d", code, tc.want)
			}
			c.expectEOF(5 * time.Second)
		})
	}
}

// TestUTF8FailFast checks that an invalid byte at the start of a long text
// frame closes the connection before the rest of the frame is sent.
func TestUTF8FailFast(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := dial(t, s, "/")
	full := masked(true, 0, ws.OpText, append([]byte{0xc0, 0x80}, make([]byte, 500)...))
	c.write(full[:20]) // header + first bytes only
	if code, _ := c.expectClose(5 * time.Second); code != 1007 {
		t.Fatalf("close code = %d; want 1007 before the frame ended", code)
	}
}

func TestPingAnsweredWithSamePayload(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := dial(t, s, "/")
	c.send(ws.OpPing, "hello\x00ping")
	f, err := c.read(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if f.Header.OpCode != ws.OpPong || string(f.Payload) != "hello\x00ping" {
		t.Fatalf("got %v %q; want pong %q", f.Header.OpCode, f.Payload, "hello\x00ping")
	}
}

// TestFragmentedWithInterleavedPing checks fragments are joined and a ping
// between them is answered.
func TestFragmentedWithInterleavedPing(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := dial(t, s, "/frag")
	c.write(masked(false, 0, ws.OpText, []byte("hé"[:2])))
	c.write(masked(true, 0, ws.OpPing, []byte("p")))
	c.write(masked(false, 0, ws.OpContinuation, []byte("hé"[2:])))
	c.write(masked(true, 0, ws.OpContinuation, []byte("llo")))
	var got []string
	for len(got) < 2 {
		f, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, map[ws.OpCode]string{ws.OpPong: "pong", ws.OpText: "text"}[f.Header.OpCode]+":"+string(f.Payload))
	}
	if want := "pong:p|text:héllo"; strings.Join(got, "|") != want {
		t.Fatalf("frames = %q; want %q", strings.Join(got, "|"), want)
	}
	_ = binary.BigEndian
}

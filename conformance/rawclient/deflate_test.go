package rawclient

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestNewDeflate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header string
		offeredBits  bool
		want         string // error substring; "" = accepted
	}{
		{"plain", "permessage-deflate", false, ""},
		{"params", "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", false, ""},
		{"client bits offered", "permessage-deflate; client_max_window_bits=9", true, ""},
		{"client bits not offered", "permessage-deflate; client_max_window_bits=9", false, "MUST NOT"},
		{"bits out of range", "permessage-deflate; server_max_window_bits=7", false, "8-15"},
		{"bits leading zero", "permessage-deflate; server_max_window_bits=010", false, "8-15"},
		{"value on a flag", "permessage-deflate; server_no_context_takeover=1", false, "no value"},
		{"unknown", "permessage-deflate; foo=bar", false, "unknown"},
		{"twice", "permessage-deflate, permessage-deflate", false, "2 times"},
		{"dup param", "permessage-deflate; server_no_context_takeover; server_no_context_takeover", false, "twice"},
		{"none", "x-other", false, "not negotiated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewDeflate(http.Header{"Sec-Websocket-Extensions": {tc.header}}, tc.offeredBits)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("NewDeflate(%q) = %v; want accepted", tc.header, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("NewDeflate(%q) = %v; want an error about %q", tc.header, err, tc.want)
			}
		})
	}
}

// TestDeflateRoundTrip: what Compress produces, Decompress restores, over
// several messages that share the window, and a message inflating past
// the limit is refused.
func TestDeflateRoundTrip(t *testing.T) {
	t.Parallel()
	d := &Deflate{ClientWindowBits: 15}
	msgs := [][]byte{[]byte("Hello, world!"), bytes.Repeat([]byte("wsbench "), 5000), {}, []byte("Hello, world! again")}
	for _, m := range msgs {
		got, err := d.Decompress(d.Compress(m), 1<<20)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("round trip of %d bytes = %d bytes, %v", len(m), len(got), err)
		}
	}
	bomb := d.Compress(make([]byte, 1<<20))
	if _, err := d.Decompress(bomb, 1000); err != ErrInflatedTooBig {
		t.Fatalf("Decompress of a %d-byte bomb = %v; want ErrInflatedTooBig", len(bomb), err)
	}
}

func FuzzDecompress(f *testing.F) {
	d := &Deflate{}
	f.Add(d.Compress([]byte("Hello")))
	f.Add([]byte{0xff, 0x00})
	f.Fuzz(func(t *testing.T, p []byte) {
		d := &Deflate{}
		out, err := d.Decompress(p, 1<<16)
		if err == nil && len(out) > 1<<16 {
			t.Fatalf("%d bytes past the limit", len(out))
		}
	})
}

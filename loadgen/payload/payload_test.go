package payload

import (
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int
		h    Header
	}{
		{"zero", HeaderLen, Header{}},
		{"typical", 64, Header{RunID: 0xdeadbeefcafe, Sender: 7, Seq: 12345, Intended: 1_764_000_000_123_456_789}},
		{"max", 1024, Header{RunID: ^uint64(0), Sender: ^uint32(0), Seq: ^uint64(0), Intended: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := make([]byte, tc.size)
			if err := Encode(b, tc.h); err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != tc.h {
				t.Errorf("Decode(Encode(%+v)) = %+v", tc.h, got)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	good := make([]byte, HeaderLen)
	_ = Encode(good, Header{Seq: 1})
	badMagic := append([]byte(nil), good...)
	badMagic[0] ^= 0xff
	badVersion := append([]byte(nil), good...)
	badVersion[2] = 99
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"short", good[:HeaderLen-1], ErrShort},
		{"text", []byte("server push: 0.123456789012345678"), ErrMagic},
		{"magic", badMagic, ErrMagic},
		{"version", badVersion, ErrVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Decode(tc.in); !errors.Is(err, tc.want) {
				t.Errorf("Decode(%q) error = %v; want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestEncodeShort(t *testing.T) {
	t.Parallel()
	if err := Encode(make([]byte, HeaderLen-1), Header{}); !errors.Is(err, ErrShort) {
		t.Errorf("Encode(short) error = %v; want ErrShort", err)
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	b := make([]byte, 64)
	_ = Encode(b, Header{Seq: 3})
	if n := testing.AllocsPerRun(100, func() { _, _ = Decode(b) }); n != 0 {
		t.Errorf("Decode allocates %v times per call; want 0", n)
	}
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// re-encodes to the same header bytes.
func FuzzDecode(f *testing.F) {
	seed := make([]byte, HeaderLen+8)
	_ = Encode(seed, Header{RunID: 1, Sender: 2, Seq: 3, Intended: 4})
	f.Add(seed)
	f.Add([]byte("__pong__"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Decode(b)
		if err != nil {
			return
		}
		out := make([]byte, HeaderLen)
		if err := Encode(out, h); err != nil {
			t.Fatal(err)
		}
		if string(out[:3]) != string(b[:3]) || string(out[4:]) != string(b[4:HeaderLen]) {
			t.Errorf("Encode(Decode(%x)) = %x", b[:HeaderLen], out)
		}
	})
}

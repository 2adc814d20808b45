package cluster

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"
)

func TestRoomSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, room, want string }{
		{"root", "/", "wsbench.room./"},
		{"path", "/chat/lobby", "wsbench.room./chat/lobby"},
		{"reserved", "/a.b*c>d e", "wsbench.room./a%2Eb%2Ac%3Ed%20e"},
		{"percent", "/100%", "wsbench.room./100%25"},
		{"empty", "", "wsbench.room.%"},
		{"utf8", "/é", "wsbench.room./%C3%A9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := RoomSubject(tc.room); got != tc.want {
				t.Errorf("RoomSubject(%q) = %q; want %q", tc.room, got, tc.want)
			}
			if got, err := SubjectRoom(tc.want); err != nil || got != tc.room {
				t.Errorf("SubjectRoom(%q) = %q, %v; want %q", tc.want, got, err, tc.room)
			}
		})
	}
}

func TestSubjectRoomRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "wsbench.room.", "other.x", "wsbench.room.a.b", "wsbench.room.%4", "wsbench.room.%zz", "wsbench.room.a b"} {
		if r, err := SubjectRoom(s); !errors.Is(err, ErrBadSubject) {
			t.Errorf("SubjectRoom(%q) = %q, %v; want ErrBadSubject", s, r, err)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		op      ws.OpCode
		payload []byte
	}{
		{"text", ws.OpText, []byte("hello")},
		{"binary", ws.OpBinary, []byte{0, 1, 2, 255}},
		{"empty", ws.OpText, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := AppendMessage(nil, 0xdeadbeef, tc.op, tc.payload)
			node, op, p, err := DecodeMessage(b)
			if err != nil || node != 0xdeadbeef || op != tc.op || !bytes.Equal(p, tc.payload) {
				t.Errorf("DecodeMessage(AppendMessage(…)) = %x, %v, %q, %v; want deadbeef, %v, %q", node, op, p, err, tc.op, tc.payload)
			}
		})
	}
	for _, b := range [][]byte{nil, {1}, {2, 1, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 9, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, _, _, err := DecodeMessage(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("DecodeMessage(%v) error = %v; want ErrBadMessage", b, err)
		}
	}
}

// FuzzDecodeMessage feeds arbitrary bus bytes: no panic, and whatever
// decodes re-encodes to the same bytes.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(AppendMessage(nil, 1, ws.OpText, []byte("hi")))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		node, op, p, err := DecodeMessage(b)
		if err != nil {
			return
		}
		if again := AppendMessage(nil, node, op, p); !bytes.Equal(again, b) {
			t.Errorf("re-encoding %x gives %x", b, again)
		}
	})
}

// FuzzSubjectRoom feeds arbitrary subjects and room names: no panic, and
// every room survives RoomSubject → SubjectRoom.
func FuzzSubjectRoom(f *testing.F) {
	f.Add("wsbench.room./a%2Eb", "/x.y")
	f.Add("wsbench.room.%", "")
	f.Fuzz(func(t *testing.T, subject, room string) {
		_, _ = SubjectRoom(subject)
		s := RoomSubject(room)
		if got, err := SubjectRoom(s); err != nil || got != room {
			t.Errorf("SubjectRoom(RoomSubject(%q)) = %q, %v", room, got, err)
		}
	})
}

func TestListenReusePort(t *testing.T) {
	t.Parallel()
	a, err := ListenReusePort("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := ListenReusePort(a.Addr().String())
	if err != nil {
		t.Fatalf("second listener on %s: %v", a.Addr(), err)
	}
	defer b.Close()
}

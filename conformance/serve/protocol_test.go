package serve

import (
	"bufio"
	"net"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// FuzzPeerNext feeds arbitrary client bytes to the protocol cases' frame
// reader, with and without permessage-deflate: it must return an event for
// each, never panic, and never hold or inflate more than maxProtoMessage.
func FuzzPeerNext(f *testing.F) {
	masked := func(op ws.OpCode, fin bool, p string) []byte {
		fr := ws.MaskFrame(ws.NewFrame(op, fin, []byte(p)))
		b, _ := ws.CompileFrame(fr)
		return b
	}
	f.Add(masked(ws.OpText, true, "hello"))
	f.Add(append(masked(ws.OpText, false, "frag-"), append(masked(ws.OpPing, true, "p"), masked(ws.OpContinuation, true, "end")...)...))
	f.Add(masked(ws.OpClose, true, "\x03\xe8bye"))
	f.Add(masked(ws.OpContinuation, true, "orphan"))
	f.Add([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // 63-bit length
	f.Add([]byte{0x83, 0x80, 1, 2, 3, 4})                                     // reserved opcode
	if c, err := wsflate.CompressFrame(ws.NewTextFrame([]byte("compressed compressed compressed"))); err == nil {
		c = ws.MaskFrame(c)
		b, _ := ws.CompileFrame(c)
		f.Add(append(b, 0)) // odd length: deflate on
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		server, client := net.Pipe()
		defer server.Close()
		go func() {
			_, _ = client.Write(data)
			client.Close()
		}()
		// Odd lengths read as if permessage-deflate were negotiated.
		p := &peer{nc: server, br: bufio.NewReader(server), deflate: len(data)%2 == 1}
		for range 64 {
			e := p.next()
			if len(p.msg) > maxProtoMessage {
				t.Fatalf("holding %d bytes of a message", len(p.msg))
			}
			if len(e.payload) > maxProtoMessage {
				t.Fatalf("a %d-byte message", len(e.payload))
			}
			_ = e.String()
			if e.op == 0 || e.op == ws.OpClose {
				return
			}
		}
	})
}

package chatserver

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// dialDeflate connects to s's room, offering permessage-deflate when offer,
// and reports whether the server accepted it.
func dialDeflate(t *testing.T, s *Server, offer bool) (net.Conn, bool) {
	t.Helper()
	ext := wsflate.Extension{Parameters: wsflate.DefaultParameters}
	d := ws.Dialer{Timeout: 5 * time.Second}
	if offer {
		d.Extensions = []httphead.Option{wsflate.DefaultParameters.Option()}
	}
	nc, _, hs, err := d.Dial(context.Background(), "ws://"+s.Addr().String()+"/zip")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range hs.Extensions {
		if _, err := ext.Negotiate(o); err != nil {
			t.Errorf("response %s: %v", o.String(), err)
		}
	}
	t.Cleanup(func() { nc.Close() })
	_, ok := ext.Accepted()
	return nc, ok
}

// TestDeflateBroadcast: with --deflate, a member that offered
// permessage-deflate receives a broadcast compressed (RSV1) and inflates
// it to the message, a member that did not receives it plain, and a
// compressed message from the first reaches both.
func TestDeflateBroadcast(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.Deflate = true })
	zc, zok := dialDeflate(t, s, true)
	pc, pok := dialDeflate(t, s, false)
	if !zok || pok {
		t.Fatalf("deflate accepted: offering %v, not offering %v; want true, false", zok, pok)
	}
	msg := bytes.Repeat([]byte("compress me "), 100)
	// Sent compressed by the deflate member, so the server inflates it too.
	z, err := wsflate.CompressFrame(ws.NewTextFrame(msg))
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteFrame(zc, ws.MaskFrameInPlace(z)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		nc         net.Conn
		compressed bool
	}{{zc, true}, {pc, false}} {
		_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		f, err := ws.ReadFrame(c.nc)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Header.Rsv1(); got != c.compressed {
			t.Fatalf("RSV1 = %v; want %v", got, c.compressed)
		}
		if c.compressed {
			if f, err = wsflate.DecompressFrame(f); err != nil {
				t.Fatal(err)
			}
		}
		if f.Header.OpCode != ws.OpText || !bytes.Equal(f.Payload, msg) {
			t.Fatalf("received %v %q; want the text message", f.Header.OpCode, f.Payload)
		}
	}
}

// TestDeflateOffServer: without --deflate an offer is declined and RSV1 is
// a protocol error.
func TestDeflateOffServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	nc, ok := dialDeflate(t, s, true)
	if ok {
		t.Fatal("permessage-deflate accepted without Config.Deflate")
	}
	z, _ := wsflate.CompressFrame(ws.NewTextFrame([]byte("x")))
	if err := ws.WriteFrame(nc, ws.MaskFrameInPlace(z)); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := ws.ReadFrame(nc)
	if err != nil || f.Header.OpCode != ws.OpClose {
		t.Fatalf("got %v, %v; want a close frame", f.Header.OpCode, err)
	}
	if code, _ := ws.ParseCloseFrameData(f.Payload); code != ws.StatusProtocolError {
		t.Fatalf("close %d; want 1002", code)
	}
}

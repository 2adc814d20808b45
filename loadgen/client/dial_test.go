package client

import (
	"context"
	"net"
	"testing"

	"github.com/gobwas/ws"
)

// TestDialFromSourceIP dials a real WebSocket listener from 127.0.0.2 and
// checks the server saw that address.
func TestDialFromSourceIP(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	remote := make(chan net.Addr, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		remote <- c.RemoteAddr()
		if _, err := ws.Upgrade(c); err != nil {
			return
		}
		_, _ = c.Read(make([]byte, 1))
	}()
	c, err := Dialer{Local: net.ParseIP("127.0.0.2")}.Dial(context.Background(), "ws://"+ln.Addr().String()+"/")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	if got := (<-remote).(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
		t.Errorf("server saw %s; want 127.0.0.2", got)
	}
	if c.Handshake <= 0 {
		t.Errorf("Handshake = %v; want > 0", c.Handshake)
	}
	if err := c.WriteClose(ws.StatusNormalClosure); err != nil {
		t.Errorf("WriteClose: %v", err)
	}
	if err := c.WriteFrame(ws.OpBinary, []byte("x")); err != net.ErrClosed {
		t.Errorf("WriteFrame after close = %v; want net.ErrClosed", err)
	}
}

package cases_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/conformance/rawclient"
)

// broken says how a test server departs from RFC 6455 and the contracts.
type broken struct {
	skipUTF8         bool // never checks text for valid UTF-8
	noCloseEcho      bool // closes TCP instead of answering a close frame
	send1005         bool // answers a close frame with code 1005 on the wire
	ignoreMax        bool // relays messages above maxMessage
	lenientHandshake bool // upgrades without checking key or version
	maskFrames       bool // masks its own frames
	acceptThenDrop   int  // above this many connections: 101, then drop (0 = no limit)
	maxMessage       int
}

// brokenServer is a small chat-room server on gobwas/ws with the flaws in b.
type brokenServer struct {
	b     broken
	mu    sync.Mutex
	rooms map[string]map[*brokenConn]bool
	open  int
	wg    sync.WaitGroup
}

type brokenConn struct {
	nc net.Conn
	mu sync.Mutex
	b  broken
}

func (c *brokenConn) write(op ws.OpCode, p []byte) error {
	f := ws.NewFrame(op, true, append([]byte(nil), p...))
	if c.b.maskFrames {
		f = ws.MaskFrameInPlace(f)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return ws.WriteFrame(c.nc, f)
}

func (c *brokenConn) closeWith(code ws.StatusCode) {
	_ = c.write(ws.OpClose, ws.NewCloseFrameBody(code, ""))
	c.nc.Close()
}

func startBroken(t *testing.T, b broken) string {
	t.Helper()
	s := &brokenServer{b: b, rooms: map[string]map[*brokenConn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		hs.Close()
		s.mu.Lock()
		for _, r := range s.rooms {
			for c := range r {
				c.nc.Close()
			}
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/"
}

func (s *brokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var nc net.Conn
	var br *bufio.Reader
	if s.b.lenientHandshake {
		hj, _ := w.(http.Hijacker)
		conn, rw, err := hj.Hijack()
		if err != nil {
			return
		}
		_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
			rawclient.AcceptKey(r.Header.Get("Sec-WebSocket-Key"))+"\r\n\r\n")
		nc, br = conn, rw.Reader
	} else {
		conn, rw, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		nc, br = conn, rw.Reader
	}
	c := &brokenConn{nc: nc, b: s.b}
	room := r.URL.Path
	s.mu.Lock()
	if s.rooms[room] == nil {
		s.rooms[room] = map[*brokenConn]bool{}
	}
	s.rooms[room][c] = true
	s.open++
	over := s.b.acceptThenDrop > 0 && s.open > s.b.acceptThenDrop
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.rooms[room], c)
		s.open--
		s.mu.Unlock()
		nc.Close()
		s.wg.Done()
	}()
	if over {
		return
	}
	s.serve(c, br, room)
}

func (s *brokenServer) serve(c *brokenConn, br *bufio.Reader, room string) {
	var msg []byte
	var msgOp ws.OpCode
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if !h.Masked || h.Rsv != 0 || h.OpCode.IsReserved() || (h.OpCode.IsControl() && (!h.Fin || h.Length > 125)) {
			c.closeWith(ws.StatusProtocolError)
			return
		}
		if h.Length > int64(s.b.maxMessage)+1 && !s.b.ignoreMax {
			c.closeWith(ws.StatusMessageTooBig)
			return
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		ws.Cipher(p, h.Mask, 0)
		switch h.OpCode {
		case ws.OpPing:
			_ = c.write(ws.OpPong, p)
			continue
		case ws.OpPong:
			continue
		case ws.OpClose:
			switch {
			case s.b.noCloseEcho:
			case s.b.send1005:
				_ = c.write(ws.OpClose, ws.NewCloseFrameBody(1005, ""))
			default:
				code, _ := ws.ParseCloseFrameData(p)
				_ = c.write(ws.OpClose, ws.NewCloseFrameBody(code, ""))
			}
			return
		case ws.OpContinuation:
			if msgOp == 0 {
				c.closeWith(ws.StatusProtocolError)
				return
			}
		default:
			if msgOp != 0 {
				c.closeWith(ws.StatusProtocolError)
				return
			}
			msgOp = h.OpCode
		}
		msg = append(msg, p...)
		if len(msg) > s.b.maxMessage && !s.b.ignoreMax {
			c.closeWith(ws.StatusMessageTooBig)
			return
		}
		if !h.Fin {
			continue
		}
		if msgOp == ws.OpText && !s.b.skipUTF8 && !utf8.Valid(msg) {
			c.closeWith(ws.StatusInvalidFramePayloadData)
			return
		}
		s.broadcast(room, msgOp, msg)
		msg, msgOp = nil, 0
	}
}

func (s *brokenServer) broadcast(room string, op ws.OpCode, p []byte) {
	s.mu.Lock()
	var members []*brokenConn
	for c := range s.rooms[room] {
		members = append(members, c)
	}
	s.mu.Unlock()
	for _, c := range members {
		if err := c.write(op, p); err != nil && !errors.Is(err, net.ErrClosed) {
			_ = strings.TrimSpace(err.Error())
		}
	}
}

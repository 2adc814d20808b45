package browser

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// bigSize is the length of the message the "big" script sends: just over
// 1 MiB, so no power-of-two buffer happens to fit it exactly.
const bigSize = 1<<20 + 7

// peerRecord is what the scripted peer saw on one connection, found by the
// id query parameter of its URL.
type peerRecord struct {
	Upgraded   bool
	CloseSeen  bool   // a close frame arrived
	CloseLen   int    // its payload length (0 = empty close)
	CloseCode  int    // its status code, 0 when the payload was empty
	CloseText  string // its reason
	CloseCount int    // close frames received (must be 1)
	Messages   []string
	EOF        bool // the browser closed TCP
}

// peer is the lane's own WebSocket server. The path after /peer/ names a
// script; the subject of those cases is the browser, so the peer does
// exactly what the script says and records what the browser sent.
//
// Scripts:
//
//	echo  echo data frames, answer a close frame with the same code
//	kick  send close 4001 "kicked", read the browser's close, wait, close TCP
//	drop  after 300 ms close TCP with RST, no close frame
//	big   send one text message of bigSize bytes, then behave as echo
//	bin   send one binary message with bytes 0..255, then behave as echo
//	slow  hold the upgrade request for 2 s before answering
//
// A peer is safe for concurrent use.
type peer struct {
	mu      sync.Mutex
	records map[string]*peerRecord
	wg      sync.WaitGroup
	conns   map[net.Conn]struct{}
	closed  bool
}

func newPeer() *peer {
	return &peer{records: make(map[string]*peerRecord), conns: make(map[net.Conn]struct{})}
}

// record returns a copy of what the peer saw for id.
func (p *peer) record(id string) peerRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.records[id]; ok {
		c := *r
		c.Messages = append([]string(nil), r.Messages...)
		return c
	}
	return peerRecord{}
}

func (p *peer) update(id string, f func(r *peerRecord)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.records[id]
	if !ok {
		r = &peerRecord{}
		p.records[id] = r
	}
	f(r)
}

// close ends every connection and waits for the handlers.
func (p *peer) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	script := strings.TrimPrefix(r.URL.Path, "/peer/")
	id := r.URL.Query().Get("id")
	if script == "slow" {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
			return
		}
	}
	conn, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		conn.Close()
		return
	}
	p.conns[conn] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	defer func() {
		conn.Close()
		p.mu.Lock()
		delete(p.conns, conn)
		p.mu.Unlock()
		p.wg.Done()
	}()
	p.update(id, func(r *peerRecord) { r.Upgraded = true })
	conn.SetDeadline(time.Now().Add(2 * time.Minute)) // bound every script

	switch script {
	case "drop":
		time.Sleep(300 * time.Millisecond)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST: the harshest drop
		}
		return
	case "kick":
		ws.WriteFrame(conn, ws.NewCloseFrame(ws.NewCloseFrameBody(4001, "kicked")))
	case "big":
		ws.WriteFrame(conn, ws.NewTextFrame(bigPayload()))
	case "bin":
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		ws.WriteFrame(conn, ws.NewBinaryFrame(b))
	}
	p.serveFrames(conn, id, script == "kick")
}

// serveFrames reads client frames until the close handshake ends or TCP
// does. With weClosed the peer already sent its close frame.
func (p *peer) serveFrames(conn net.Conn, id string, weClosed bool) {
	for {
		f, err := ws.ReadFrame(conn)
		if err != nil {
			p.update(id, func(r *peerRecord) { r.EOF = true })
			return
		}
		if f.Header.Masked {
			ws.Cipher(f.Payload, f.Header.Mask, 0)
		}
		switch f.Header.OpCode {
		case ws.OpClose:
			code, text := 0, ""
			if len(f.Payload) >= 2 {
				code = int(binary.BigEndian.Uint16(f.Payload))
				text = string(f.Payload[2:])
			}
			p.update(id, func(r *peerRecord) {
				r.CloseSeen, r.CloseLen, r.CloseCode, r.CloseText = true, len(f.Payload), code, text
				r.CloseCount++
			})
			if weClosed {
				// Hold TCP open a little so the browser sits in CLOSING
				// long enough for the probe's sampler to see it.
				time.Sleep(200 * time.Millisecond)
				return
			}
			body := f.Payload
			if len(body) >= 2 {
				body = ws.NewCloseFrameBody(ws.StatusCode(code), "")
			}
			ws.WriteFrame(conn, ws.NewCloseFrame(body))
			weClosed = true
			// Read on: a second close frame from the browser would be a bug,
			// and the browser closes TCP next.
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		case ws.OpText, ws.OpBinary:
			msg := string(f.Payload)
			p.update(id, func(r *peerRecord) { r.Messages = append(r.Messages, msg) })
			if !weClosed {
				ws.WriteFrame(conn, ws.NewFrame(f.Header.OpCode, true, f.Payload))
			}
		case ws.OpPing:
			ws.WriteFrame(conn, ws.NewPongFrame(f.Payload))
		}
	}
}

// bigPayload is bigSize bytes of printable ASCII with a position-dependent
// pattern, so a dropped or repeated chunk changes the checksum.
func bigPayload() []byte {
	var b bytes.Buffer
	b.Grow(bigSize)
	for i := 0; b.Len() < bigSize; i++ {
		b.WriteByte(byte('a' + i%26))
		if i%1000 == 999 {
			b.WriteByte(byte('0' + (i/1000)%10))
		}
	}
	return b.Bytes()[:bigSize]
}

// bigChecksum is the probe's checksum of bigPayload.
func bigChecksum() uint32 {
	var h uint32
	for _, c := range bigPayload() {
		h += uint32(c)
	}
	return h
}

package rawclient

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// WriteTimeout bounds every write of a Conn.
const WriteTimeout = 5 * time.Second

// acceptGUID is the fixed GUID of RFC 6455 §1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for key (RFC 6455 §4.2.2).
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// NewKey returns a fresh random Sec-WebSocket-Key.
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// CloseSeen is one close frame a Conn received.
type CloseSeen struct {
	Label string // the Conn's label, normally the case id
	Code  uint16 // code on the wire; 0 for an empty or 1-byte body
	Empty bool   // the close frame had no body
}

// Recorder collects every close frame every Conn sees. It is safe for
// concurrent use; a nil *Recorder records nothing.
type Recorder struct {
	mu     sync.Mutex
	closes []CloseSeen
}

func (r *Recorder) add(c CloseSeen) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.closes = append(r.closes, c)
	r.mu.Unlock()
}

// Closes returns a copy of the close frames seen so far.
func (r *Recorder) Closes() []CloseSeen {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]CloseSeen(nil), r.closes...)
}

// Request describes an upgrade request. The zero value of each field means
// the valid default.
type Request struct {
	Method string      // default GET
	Proto  string      // default HTTP/1.1
	Path   string      // default the URL's path
	Header http.Header // added after the defaults; a key with an empty value removes the default
}

// Bytes returns the request as written on the wire for u.
func (rq Request) Bytes(u *url.URL) ([]byte, string) {
	method, proto, path := rq.Method, rq.Proto, rq.Path
	if method == "" {
		method = "GET"
	}
	if proto == "" {
		proto = "HTTP/1.1"
	}
	if path == "" {
		path = u.RequestURI()
	}
	key := NewKey()
	type field struct{ name, value string }
	fields := []field{
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Key", key},
		{"Sec-WebSocket-Version", "13"},
	}
	names := make([]string, 0, len(rq.Header))
	for k := range rq.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := rq.Header[k]
		kept := fields[:0]
		for _, f := range fields {
			if !strings.EqualFold(f.name, k) {
				kept = append(kept, f)
			}
		}
		fields = kept
		if strings.EqualFold(k, "Sec-WebSocket-Key") {
			key = ""
		}
		if len(v) == 1 && v[0] == "" {
			continue
		}
		for _, x := range v {
			fields = append(fields, field{k, x})
			if strings.EqualFold(k, "Sec-WebSocket-Key") {
				key = x
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\nHost: %s\r\n", method, path, proto, u.Host)
	for _, f := range fields {
		fmt.Fprintf(&b, "%s: %s\r\n", f.name, f.value)
	}
	b.WriteString("\r\n")
	return []byte(b.String()), key
}

// Conn is a raw client connection.
type Conn struct {
	NC       net.Conn
	BR       *bufio.Reader
	Resp     *http.Response // the handshake response
	Label    string
	Rec      *Recorder
	AutoPong bool // answer server pings while waiting for messages (default on)
	// EmptyClose is set when the last close frame Next read had no body
	// (ParseClose reports it as 1005).
	EmptyClose bool

	wmu sync.Mutex // one writer at a time: WriteWhile's goroutine and pongs

	wire     *Wire  // the case's wire log (nil: none)
	wireName string // this connection in the log: its local port
}

// DialTCP opens the transport for u (TLS for wss).
func DialTCP(ctx context.Context, u *url.URL) (net.Conn, error) {
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "wss" {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	var d net.Dialer
	if u.Scheme == "wss" {
		td := tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: u.Hostname()}}
		return td.DialContext(ctx, "tcp", host)
	}
	return d.DialContext(ctx, "tcp", host)
}

// Handshake dials u, writes raw and reads the HTTP response. The returned
// Conn is open whatever the status; the caller closes it.
func Handshake(ctx context.Context, u *url.URL, raw []byte) (*Conn, error) {
	nc, err := DialTCP(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u.Host, err)
	}
	c := &Conn{NC: nc, BR: bufio.NewReaderSize(nc, 64<<10), AutoPong: true, wire: wireFrom(ctx)}
	if c.wire != nil {
		if a, ok := nc.LocalAddr().(*net.TCPAddr); ok {
			c.wireName = fmt.Sprintf(":%d", a.Port)
		}
		line, _, _ := strings.Cut(string(raw), "\r\n")
		c.wire.logf(c.wireName+" →", "%s (%d-byte upgrade request)", line, len(raw))
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	} else {
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	}
	if _, err := nc.Write(raw); err != nil {
		nc.Close()
		return nil, fmt.Errorf("write request: %w", err)
	}
	resp, err := http.ReadResponse(c.BR, nil)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("read response: %w", err)
	}
	c.wire.logf(c.wireName+" ←", "HTTP %s", resp.Status)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// Bounded read of the body so the caller can show it.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	}
	c.Resp = resp
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

// Open performs a valid upgrade to u with rq and checks the 101 response and
// its Sec-WebSocket-Accept. Rec and label identify the connection's close
// frames.
func Open(ctx context.Context, u *url.URL, rq Request, rec *Recorder, label string) (*Conn, error) {
	raw, key := rq.Bytes(u)
	c, err := Handshake(ctx, u, raw)
	if err != nil {
		return nil, err
	}
	c.Rec, c.Label = rec, label
	if c.Resp.StatusCode != http.StatusSwitchingProtocols {
		c.NC.Close()
		return nil, fmt.Errorf("handshake: status %s, want 101", c.Resp.Status)
	}
	if got := c.Resp.Header.Get("Sec-WebSocket-Accept"); got != AcceptKey(key) {
		c.NC.Close()
		return nil, fmt.Errorf("handshake: Sec-WebSocket-Accept %q, want %q", got, AcceptKey(key))
	}
	return c, nil
}

// Close closes the TCP connection.
func (c *Conn) Close() error { return c.NC.Close() }

// WriteRaw writes b as is.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.NC.SetWriteDeadline(time.Now().Add(writeTimeout(len(b))))
	_, err := c.NC.Write(b)
	c.wire.sent(c.wireName, b)
	if err != nil {
		c.wire.logf(c.wireName+" →", "write failed: %v", err)
	}
	return err
}

// writeTimeout is WriteTimeout, plus a second per MiB for large writes.
func writeTimeout(n int) time.Duration {
	return WriteTimeout + time.Duration(n>>20)*time.Second
}

// WriteWhile writes b from a goroutine of its own while read runs on the
// calling goroutine. A server that streams its answer back while it is
// still reading the request (or closes the connection part-way with 1009)
// is read as it answers, instead of both sides blocking on full socket
// buffers until a write timeout. Server pings are not answered while b is
// being written (the write holds the connection), so AutoPong is off
// during read. When read returns first, the write is abandoned (its
// deadline is cut) and its error reported.
func (c *Conn) WriteWhile(b []byte, read func() error) (writeErr, readErr error) {
	done := make(chan error, 1)
	go func() { done <- c.WriteRaw(b) }()
	auto := c.AutoPong
	c.AutoPong = false
	readErr = read()
	c.AutoPong = auto
	select {
	case writeErr = <-done:
	case <-time.After(100 * time.Millisecond):
		_ = c.NC.SetWriteDeadline(time.Now())
		writeErr = <-done
	}
	return writeErr, readErr
}

// Write encodes and writes f.
func (c *Conn) Write(f Frame) error { return c.WriteRaw(f.Append(nil)) }

// Send writes one masked, final frame.
func (c *Conn) Send(op ws.OpCode, payload []byte) error {
	return c.Write(Frame{Fin: true, Op: op, Masked: true, Payload: payload})
}

// SendClose writes a masked close frame with code and reason.
func (c *Conn) SendClose(code uint16, reason string) error {
	return c.Send(ws.OpClose, CloseBody(code, reason))
}

// Next reads one frame, waiting at most timeout. Close frames are recorded.
func (c *Conn) Next(timeout time.Duration) (Frame, error) {
	_ = c.NC.SetReadDeadline(time.Now().Add(timeout))
	f, err := ReadFrame(c.BR)
	if err != nil {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			c.wire.logf(c.wireName+" ←", "read ended: %v", err)
		}
		return f, err
	}
	c.wire.received(c.wireName, f)
	if f.Op == ws.OpClose {
		c.EmptyClose = len(f.Payload) == 0
		var code uint16
		if len(f.Payload) >= 2 {
			code, _, _ = ParseClose(f.Payload)
		}
		c.Rec.add(CloseSeen{Label: c.Label, Code: code, Empty: len(f.Payload) == 0})
	}
	return f, nil
}

// CloseError is returned by Message when a close frame arrives instead.
type CloseError struct {
	Code   uint16
	Reason string
}

func (e *CloseError) Error() string { return fmt.Sprintf("close %d %q", e.Code, e.Reason) }

// Message is one reassembled data message.
type Message struct {
	Op      ws.OpCode
	Payload []byte
	Frames  int
	Masked  bool // some frame of it was masked (servers must not mask)
	Odd     bool // some frame had a non-minimal length or RSV bits
}

// Message reads frames until one whole data message has arrived, answering
// pings (when AutoPong) and skipping pongs, all within timeout. A close frame
// ends it with a *CloseError.
func (c *Conn) Message(timeout time.Duration) (Message, error) {
	deadline := time.Now().Add(timeout)
	var m Message
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return m, os.ErrDeadlineExceeded
		}
		f, err := c.Next(left)
		if err != nil {
			return m, err
		}
		switch {
		case f.Op == ws.OpPing:
			if c.AutoPong {
				if err := c.Send(ws.OpPong, f.Payload); err != nil {
					return m, err
				}
			}
			continue
		case f.Op == ws.OpPong:
			continue
		case f.Op == ws.OpClose:
			code, reason, _ := ParseClose(f.Payload)
			return m, &CloseError{Code: code, Reason: reason}
		}
		if m.Frames == 0 {
			m.Op = f.Op
		}
		m.Frames++
		m.Masked = m.Masked || f.Masked
		m.Odd = m.Odd || f.NonMinimal || f.Rsv != 0
		m.Payload = append(m.Payload, f.Payload...)
		if f.Fin {
			return m, nil
		}
	}
}

// Await reads messages until one satisfies want, or the time is up. It
// returns how many other messages arrived meanwhile.
func (c *Conn) Await(timeout time.Duration, want func(Message) bool) (Message, int, error) {
	deadline := time.Now().Add(timeout)
	others := 0
	for {
		m, err := c.Message(time.Until(deadline))
		if err != nil {
			return m, others, err
		}
		if want(m) {
			return m, others, nil
		}
		others++
	}
}

// ErrNoClose means the connection ended without a close frame.
var ErrNoClose = errors.New("rawclient: connection ended without a close frame")

// AwaitClose reads until a close frame arrives, ignoring data. It returns
// ErrNoClose wrapped with the read error if the connection ends first.
func (c *Conn) AwaitClose(timeout time.Duration) (code uint16, reason string, err error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, "", os.ErrDeadlineExceeded
		}
		f, err := c.Next(left)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return 0, "", err
			}
			return 0, "", fmt.Errorf("%w (%v)", ErrNoClose, err)
		}
		switch f.Op {
		case ws.OpClose:
			code, reason, ok := ParseClose(f.Payload)
			if !ok {
				return 0, "", fmt.Errorf("close frame with a 1-byte body")
			}
			return code, reason, nil
		case ws.OpPing:
			if c.AutoPong {
				_ = c.Send(ws.OpPong, f.Payload)
			}
		}
	}
}

// AwaitEOF reads and discards until the server closes TCP; it returns
// os.ErrDeadlineExceeded if it did not within timeout.
func (c *Conn) AwaitEOF(timeout time.Duration) error {
	_ = c.NC.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, io.LimitReader(c.BR, 64<<20))
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
		return nil
	}
	return err
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// IsTimeout reports whether err is a read deadline expiring.
func IsTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

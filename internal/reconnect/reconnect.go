// Package reconnect is a WebSocket client (on gobwas/ws) that stays
// connected: when the connection ends it dials again after a full-jitter
// backoff delay (package backoff), and stops for good only when it is told
// to (Close, which sends close 1000) or when the server closes with a code
// in 4000–4099, the project's "do not retry" range. A 503 handshake refusal
// with Retry-After delays the next attempt by at least that long. The
// client answers pings, may send the application heartbeat "__ping__", and
// treats a silent connection as dead.
//
// Run drives one client from one goroutine; Send and Close may be called
// from any goroutine. Callbacks run on Run's goroutine.
package reconnect

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/wsbench/wsbench/internal/backoff"
)

// AppPing is the application heartbeat text the chat server answers with
// AppPong (to the sender only).
const (
	AppPing = "__ping__"
	AppPong = "__pong__"
)

// Do-not-retry close codes: a server closing with one of these asks the
// client to stay away.
const (
	DoNotRetryMin = 4000
	DoNotRetryMax = 4099
)

// Config configures a Client.
type Config struct {
	URL         string
	Backoff     backoff.Config
	Rand        func() float64 // jitter source, uniform in [0,1); nil = math/rand/v2
	DialTimeout time.Duration  // per attempt; 0 = 10s
	Heartbeat   time.Duration  // send AppPing at this period; 0 = off
	DeadAfter   time.Duration  // nothing received for this long = dead, reconnect; 0 = off

	OnOpen    func(attempt int)                             // connected; attempt = failed tries before
	OnMessage func(op ws.OpCode, payload []byte)            // a data message (AppPong included)
	OnClose   func(code int, reason string, err error)      // the connection ended (code 0 = no close frame)
	OnDelay   func(attempt int, d time.Duration, why error) // about to wait d before the next dial
}

// Errors Run returns.
var (
	ErrClosed     = errors.New("reconnect: closed by the client")
	ErrDoNotRetry = errors.New("reconnect: server said do not retry")
)

// Client is a reconnecting WebSocket client.
type Client struct {
	cfg Config
	pol *backoff.Policy

	mu      sync.Mutex
	conn    net.Conn
	closing bool
	closed  chan struct{}
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.Backoff == (backoff.Config{}) {
		cfg.Backoff = backoff.DefaultConfig()
	}
	if err := cfg.Backoff.Validate(); err != nil {
		return nil, err
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	return &Client{cfg: cfg, pol: backoff.New(cfg.Backoff, cfg.Rand), closed: make(chan struct{})}, nil
}

// RefusedError is a handshake the server refused with an HTTP status
// (OnDelay receives it as the reason).
type RefusedError struct {
	Status     int
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
}

func (r *RefusedError) Error() string {
	return fmt.Sprintf("handshake refused: %d (Retry-After %v)", r.Status, r.RetryAfter)
}

// Run connects and reconnects until ctx ends (returns ctx.Err()), Close is
// called (ErrClosed) or the server says not to retry (ErrDoNotRetry).
func (c *Client) Run(ctx context.Context) error {
	for {
		start := time.Now()
		code, err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if c.isClosing() {
			return ErrClosed
		}
		if code >= DoNotRetryMin && code <= DoNotRetryMax {
			return fmt.Errorf("%w (close %d)", ErrDoNotRetry, code)
		}
		up := time.Since(start)
		c.pol.Connected(up)
		n := c.pol.Attempt()
		d := c.pol.Next()
		var rf *RefusedError
		if errors.As(err, &rf) {
			// Retry-After is a minimum; the jitter on top keeps clients
			// refused together from returning together.
			d += rf.RetryAfter
		}
		if c.cfg.OnDelay != nil {
			c.cfg.OnDelay(n, d, err)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.closed:
			t.Stop()
			return ErrClosed
		case <-t.C:
		}
	}
}

// session dials once and serves the connection until it ends. It returns
// the close code received (0 if none) and what ended it.
func (c *Client) session(ctx context.Context) (int, error) {
	var rf *RefusedError
	d := ws.Dialer{
		Timeout: c.cfg.DialTimeout,
		OnStatusError: func(status int, _ []byte, resp io.Reader) {
			rf = &RefusedError{Status: status}
			r, err := http.ReadResponse(bufio.NewReader(resp), nil)
			if err != nil {
				return
			}
			rf.RetryAfter = retryAfter(r.Header.Get("Retry-After"), time.Now())
		},
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	nc, br, _, err := d.Dial(dctx, c.cfg.URL)
	cancel()
	if err != nil {
		if rf != nil {
			return 0, rf
		}
		return 0, fmt.Errorf("dial %s: %w", c.cfg.URL, err)
	}
	var src io.Reader = nc
	if br != nil {
		src = io.MultiReader(br, nc) // frames that arrived with the 101
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		nc.Close()
		return 0, ErrClosed
	}
	c.conn = nc
	c.mu.Unlock()
	if c.cfg.OnOpen != nil {
		c.cfg.OnOpen(c.pol.Attempt())
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			nc.Close()
		case <-stop:
		}
	}()
	if c.cfg.Heartbeat > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.heartbeat(nc, stop)
		}()
	}
	code, reason, err := c.read(nc, src)
	close(stop)
	nc.Close()
	wg.Wait()
	c.mu.Lock()
	c.conn = nil
	c.mu.Unlock()
	if c.cfg.OnClose != nil {
		c.cfg.OnClose(code, reason, err)
	}
	return code, err
}

func (c *Client) heartbeat(nc net.Conn, stop <-chan struct{}) {
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if c.write(nc, ws.OpText, []byte(AppPing)) != nil {
				return
			}
		}
	}
}

// read serves nc until it ends: answers pings, answers a server close,
// and hands data to OnMessage.
func (c *Client) read(nc net.Conn, src io.Reader) (int, string, error) {
	rd := wsutil.Reader{Source: src, State: ws.StateClientSide, CheckUTF8: true}
	for {
		if c.cfg.DeadAfter > 0 {
			_ = nc.SetReadDeadline(time.Now().Add(c.cfg.DeadAfter))
		}
		h, err := rd.NextFrame()
		if err != nil {
			return 0, "", err
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(&rd, p); err != nil {
				return 0, "", err
			}
			switch h.OpCode {
			case ws.OpPing:
				if err := c.write(nc, ws.OpPong, p); err != nil {
					return 0, "", err
				}
			case ws.OpClose:
				code, reason := ws.ParseCloseFrameData(p)
				reply := code
				if !code.Empty() && (code.IsNotUsed() || code.IsProtocolReserved()) {
					reply = ws.StatusProtocolError
				}
				_ = c.write(nc, ws.OpClose, ws.NewCloseFrameBody(reply, ""))
				return int(code), reason, fmt.Errorf("server closed: %d %q", code, reason)
			}
			continue
		}
		p, err := io.ReadAll(io.LimitReader(&rd, 64<<20))
		if err != nil {
			return 0, "", err
		}
		if c.cfg.OnMessage != nil {
			c.cfg.OnMessage(h.OpCode, p)
		}
	}
}

// write sends one masked frame; writes are serialised.
func (c *Client) write(nc net.Conn, op ws.OpCode, p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewFrame(op, true, append([]byte(nil), p...))))
}

// ErrNotConnected is returned by Send between connections.
var ErrNotConnected = errors.New("reconnect: not connected")

// Send writes a data message on the current connection.
func (c *Client) Send(op ws.OpCode, p []byte) error {
	c.mu.Lock()
	nc := c.conn
	c.mu.Unlock()
	if nc == nil {
		return ErrNotConnected
	}
	return c.write(nc, op, p)
}

func (c *Client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// Close ends the client on purpose: close 1000 to the server, no
// reconnect. Run then returns ErrClosed. Close is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	close(c.closed)
	nc := c.conn
	c.mu.Unlock()
	if nc == nil {
		return nil
	}
	err := c.write(nc, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	// Run's reader sees the server's answering close (or EOF) and ends;
	// bound the wait for it.
	_ = nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	return err
}

// maxRetryAfter bounds what a server can make the client wait.
const maxRetryAfter = time.Hour

// retryAfter parses a Retry-After value, delay-seconds or an HTTP date
// (RFC 9110 §10.2.3), relative to now; anything else is 0.
func retryAfter(v string, now time.Time) time.Duration {
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

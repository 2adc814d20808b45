package chatserver

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// testConfig is DefaultConfig with server pings off and short timeouts.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.PingInterval = 0
	cfg.PongTimeout = 0
	cfg.CloseTimeout = time.Second
	cfg.ShutdownGrace = 3 * time.Second
	return cfg
}

// startServer runs a Server on 127.0.0.1:0 until the test ends.
func startServer(t testing.TB, mutate func(*Config)) *Server {
	t.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	var logf func(string, ...any)
	if _, isBench := t.(*testing.B); !isBench {
		logf = t.Logf
	}
	s, err := New(cfg, logf)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	for s.Addr() == nil {
		time.Sleep(time.Millisecond)
	}
	return s
}

// client is a raw WebSocket test client: it writes masked frames of any
// shape and reads server frames one at a time.
type client struct {
	t  testing.TB
	nc net.Conn
	r  io.Reader
}

func dial(t testing.TB, s *Server, path string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+s.Addr().String()+path)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &client{t: t, nc: nc, r: nc}
	if br != nil {
		c.r = io.MultiReader(br, nc)
	}
	return c
}

func (c *client) write(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// masked builds one masked client frame; rsv and length are as given.
func masked(fin bool, rsv byte, op ws.OpCode, payload []byte) []byte {
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Length: int64(len(payload)), Mask: [4]byte{1, 2, 3, 4}}
	var b strings.Builder
	ws.WriteHeader(&b, h)
	p := append([]byte(nil), payload...)
	ws.Cipher(p, h.Mask, 0)
	return append([]byte(b.String()), p...)
}

func (c *client) send(op ws.OpCode, payload string) { c.write(masked(true, 0, op, []byte(payload))) }

// read returns the next frame from the server within d.
func (c *client) read(d time.Duration) (ws.Frame, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	h, err := ws.ReadHeader(c.r)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Masked {
		return ws.Frame{}, fmt.Errorf("server frame is masked")
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.r, p); err != nil {
		return ws.Frame{}, err
	}
	return ws.Frame{Header: h, Payload: p}, nil
}

// readData returns the next data frame, skipping pings and pongs.
func (c *client) readData(d time.Duration) (ws.Frame, error) {
	for {
		f, err := c.read(d)
		if err != nil || (f.Header.OpCode != ws.OpPing && f.Header.OpCode != ws.OpPong) {
			return f, err
		}
	}
}

// expectClose reads until a close frame and returns its code and reason
// (code 0 for an empty body); data frames before it are skipped.
func (c *client) expectClose(d time.Duration) (ws.StatusCode, string) {
	c.t.Helper()
	for {
		f, err := c.read(d)
		if err != nil {
			c.t.Fatalf("waiting for a close frame: %v", err)
		}
		if f.Header.OpCode != ws.OpClose {
			continue
		}
		if len(f.Payload) < 2 {
			return 0, ""
		}
		return ws.StatusCode(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:])
	}
}

// expectEOF checks that the server closes TCP after the close frame.
func (c *client) expectEOF(d time.Duration) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(d))
	b := make([]byte, 64)
	for {
		_, err := c.r.Read(b)
		if err == io.EOF || (err != nil && strings.Contains(err.Error(), "reset")) {
			return
		}
		if err != nil {
			c.t.Fatalf("waiting for TCP close: %v", err)
		}
	}
}

func closeBody(code uint16, reason string) string {
	b := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(b, code)
	return string(append(b, reason...))
}

// rawRequest sends an HTTP request text and returns the response.
func rawRequest(t testing.TB, s *Server, req string) *http.Response {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("reading response to %q: %v", req, err)
	}
	resp.Body.Close()
	return resp
}

// metric returns the value of one Prometheus series of s, e.g.
// `wsbench_slow_consumer_closes_total{reason="queue"}`, or 0.
func metric(t testing.TB, s *Server, series string) float64 {
	t.Helper()
	mfs, err := s.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			if len(m.GetLabel()) > 0 {
				var ls []string
				for _, l := range m.GetLabel() {
					ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				name += "{" + strings.Join(ls, ",") + "}"
			}
			if name != series {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return 0
}

// byteReader reads one byte at a time, so that http.ReadResponse leaves
// the frames after the response in the connection.
type byteReader struct{ r net.Conn }

func newByteReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(byteReader{c}, 16) }

func (b byteReader) Read(p []byte) (int, error) { return b.r.Read(p[:1]) }

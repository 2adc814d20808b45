package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wsbench/wsbench/internal/eventually"
	"github.com/wsbench/wsbench/server/chatserver"
)

// startNATS starts an embedded NATS server on a free loopback port.
func startNATS(t *testing.T, addr string) *NATS {
	t.Helper()
	n, err := StartNATS(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	return n
}

// testNode is one chat server joined to the bus.
type testNode struct {
	srv  *chatserver.Server
	node *Node
	url  string // ws://…/
	done chan error
	once sync.Once
}

func startNode(t *testing.T, natsURL string) *testNode {
	t.Helper()
	cfg := chatserver.DefaultConfig()
	cfg.PingInterval, cfg.PongTimeout = 0, 0
	cfg.AppHeartbeat = false
	cfg.ShutdownGrace = 2 * time.Second
	// Every client sends a burst to the whole room; under -race the
	// default queue of 256 frames overflows (a slow-consumer close, not
	// what these tests are about).
	cfg.SendQueue = 1 << 14
	srv, err := chatserver.New(cfg, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	node, err := Join(Config{URL: natsURL}, srv, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFanout(node)
	ln, err := ListenReusePort("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{srv: srv, node: node, url: "ws://" + ln.Addr().String(), done: make(chan error, 1)}
	go func() { tn.done <- srv.Serve(ln) }()
	t.Cleanup(tn.stop)
	return tn
}

// stop shuts the server down, then leaves the bus.
func (tn *testNode) stop() {
	tn.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tn.srv.Shutdown(ctx)
		<-tn.done
		_ = tn.node.Close()
	})
}

// msg is what test clients send: "sender:seq" (seq < 0 for probes).
func msg(sender, seq int) []byte { return []byte(fmt.Sprintf("%d:%d", sender, seq)) }

func parseMsg(b []byte) (sender, seq int, err error) {
	a, c, ok := strings.Cut(string(b), ":")
	if !ok {
		return 0, 0, fmt.Errorf("message %q is not sender:seq", b)
	}
	if sender, err = strconv.Atoi(a); err != nil {
		return 0, 0, err
	}
	seq, err = strconv.Atoi(c)
	return sender, seq, err
}

// wsClient is a test WebSocket client recording what it receives.
type wsClient struct {
	t    *testing.T
	id   int
	conn net.Conn
	rw   io.ReadWriter
	wmu  sync.Mutex

	mu       sync.Mutex
	got      map[int][]int // sender → seqs in arrival order (probes excluded)
	probes   int
	closed   bool
	readDone chan struct{}
}

func dial(t *testing.T, id int, url string) *wsClient {
	t.Helper()
	c := &wsClient{t: t, id: id, got: map[int][]int{}}
	c.connect(url)
	t.Cleanup(c.close)
	return c
}

func (c *wsClient) connect(url string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, url+"/room")
	if err != nil {
		c.t.Fatalf("client %d: dial %s: %v", c.id, url, err)
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	c.mu.Lock()
	c.conn, c.rw, c.closed = conn, struct {
		io.Reader
		io.Writer
	}{r, conn}, false
	c.readDone = make(chan struct{})
	done, rw := c.readDone, c.rw
	c.mu.Unlock()
	go c.read(rw, done)
}

func (c *wsClient) read(rw io.ReadWriter, done chan struct{}) {
	defer close(done)
	for {
		data, _, err := wsutil.ReadServerData(rw)
		if err != nil {
			c.mu.Lock()
			c.closed = true
			c.mu.Unlock()
			return
		}
		sender, seq, err := parseMsg(data)
		if err != nil {
			c.t.Errorf("client %d: %v", c.id, err)
			continue
		}
		c.mu.Lock()
		if seq < 0 {
			c.probes++
		} else {
			c.got[sender] = append(c.got[sender], seq)
		}
		c.mu.Unlock()
	}
}

func (c *wsClient) send(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	return wsutil.WriteClientMessage(conn, ws.OpText, b)
}

// isClosed reports whether the server ended the connection.
func (c *wsClient) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *wsClient) probeCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probes
}

// seqs returns a copy of what c received from sender.
func (c *wsClient) seqs(sender int) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.got[sender]...)
}

func (c *wsClient) close() {
	c.mu.Lock()
	conn, done := c.conn, c.readDone
	c.mu.Unlock()
	_ = conn.Close()
	<-done
}

// syncProbes has from send probes until every client in to has seen one, so
// that every client is a room member on its node before the test sends.
func syncProbes(t *testing.T, from *wsClient, to []*wsClient) {
	t.Helper()
	k := 0
	eventually.True(t, 10*time.Second, 20*time.Millisecond, func() error {
		k++
		if err := from.send(msg(from.id, -k)); err != nil {
			return err
		}
		for _, c := range to {
			if c.probeCount() == 0 {
				return fmt.Errorf("client %d has seen no probe yet", c.id)
			}
		}
		return nil
	})
}

// checkRange checks that c received seqs lo…hi-1 of sender exactly once
// and in order, with nothing else in that range.
func checkRange(c *wsClient, sender, lo, hi int) error {
	var in []int
	for _, s := range c.seqs(sender) {
		if s >= lo && s < hi {
			in = append(in, s)
		}
	}
	if len(in) != hi-lo {
		return fmt.Errorf("client %d got %d messages of sender %d in [%d,%d), want %d: %v", c.id, len(in), sender, lo, hi, hi-lo, in)
	}
	for i, s := range in {
		if s != lo+i {
			return fmt.Errorf("client %d: message %d of sender %d is seq %d, want %d (duplicate or out of order): %v", c.id, i, sender, s, lo+i, in)
		}
	}
	return nil
}

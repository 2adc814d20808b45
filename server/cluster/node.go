package cluster

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/nats-io/nats.go"
)

// Defaults of Config.
const (
	DefaultReconnectWait = 250 * time.Millisecond
	DefaultConnectWait   = 5 * time.Second
	// DefaultPendingMsgs and DefaultPendingBytes bound the messages a node
	// has received from NATS but not yet handed to its members; beyond
	// them NATS drops messages for this node (counted in Status.Dropped).
	DefaultPendingMsgs  = 1 << 20
	DefaultPendingBytes = 512 << 20
)

// Deliverer delivers a message to the members of a room on this node only.
// *chatserver.Server implements it.
type Deliverer interface {
	DeliverLocal(room string, op ws.OpCode, payload []byte) int
}

// Config configures a Node.
type Config struct {
	URL  string // NATS server, nats://host:port (the server's --cluster)
	Name string // node name in logs and NATS connection lists; "" = node id

	ReconnectWait time.Duration // pause between reconnect attempts; 0 = DefaultReconnectWait
	ConnectWait   time.Duration // how long Join waits for the first connection; 0 = DefaultConnectWait
	PendingMsgs   int           // 0 = DefaultPendingMsgs
	PendingBytes  int           // 0 = DefaultPendingBytes
}

// Validate says what is wrong with c.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
		return fmt.Errorf("--cluster %q: want a NATS URL such as nats://127.0.0.1:4222", c.URL)
	}
	if c.ReconnectWait < 0 || c.ConnectWait < 0 || c.PendingMsgs < 0 || c.PendingBytes < 0 {
		return errors.New("cluster: negative wait or pending limit")
	}
	return nil
}

// Node connects one chat server to the NATS bus: Publish delivers a room
// message to the local members and to every other node; messages of other
// nodes are relayed to the local members. All methods are safe for
// concurrent use; Publish must be called one message at a time per sender
// (as chatserver does) for per-sender order to hold.
type Node struct {
	id    uint64
	local Deliverer
	logf  func(string, ...any)
	nc    *nats.Conn
	sub   *nats.Subscription
	url   string

	connected     atomic.Bool
	published     atomic.Int64
	publishErrors atomic.Int64
	received      atomic.Int64
	foreign       atomic.Int64 // undecodable messages
	echoes        atomic.Int64 // own messages seen (none with no-echo)
	disconnects   atomic.Int64
	reconnects    atomic.Int64
	lastErr       atomic.Pointer[string]
	closeOnce     sync.Once

	logMu  sync.Mutex
	closed bool // guarded by logMu: logf is silent after Close
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Join connects to the NATS server of cfg and subscribes to every room.
// Join returns an error only for a bad cfg or a failed subscription: when
// NATS is not reachable within ConnectWait the node starts disconnected
// (serving its local members, Status says so) and keeps trying.
func Join(cfg Config, local Deliverer, logf func(string, ...any)) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{local: local, url: cfg.URL}
	// NATS runs its callbacks on its own goroutine, possibly after Close;
	// logf is not called once Close has returned.
	userLogf := logf
	n.logf = func(format string, a ...any) {
		n.logMu.Lock()
		defer n.logMu.Unlock()
		if userLogf != nil && !n.closed {
			userLogf(format, a...)
		}
	}
	logf = n.logf
	var b [8]byte
	_, _ = rand.Read(b[:])
	n.id = binary.BigEndian.Uint64(b[:])
	name := cfg.Name
	if name == "" {
		name = fmt.Sprintf("wsbench-%016x", n.id)
	}
	wait := cmp(cfg.ReconnectWait, DefaultReconnectWait)
	connected := make(chan struct{})
	var once sync.Once
	opts := []nats.Option{
		nats.Name(name),
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(wait),
		nats.ReconnectJitter(wait/4, wait/4),
		nats.RetryOnFailedConnect(true),
		nats.PingInterval(5 * time.Second),
		nats.MaxPingsOutstanding(2),
		nats.ConnectHandler(func(*nats.Conn) {
			n.connected.Store(true)
			logf("cluster: connected to NATS %s", cfg.URL)
			once.Do(func() { close(connected) })
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			n.connected.Store(false)
			n.disconnects.Add(1)
			logf("cluster: lost NATS %s (%v); serving local members only until it is back", cfg.URL, err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			n.connected.Store(true)
			n.reconnects.Add(1)
			logf("cluster: reconnected to NATS %s", nc.ConnectedUrl())
			once.Do(func() { close(connected) })
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			s := err.Error()
			n.lastErr.Store(&s)
			logf("cluster: NATS error: %v", err)
		}),
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect %s: %w", cfg.URL, err)
	}
	n.nc = nc
	sub, err := nc.Subscribe(SubjectPrefix+">", n.relay)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: subscribe: %w", err)
	}
	_ = sub.SetPendingLimits(cmp(cfg.PendingMsgs, DefaultPendingMsgs), cmp(cfg.PendingBytes, DefaultPendingBytes))
	n.sub = sub
	select {
	case <-connected:
		// Make sure the server has the subscription before the node
		// serves: messages published from now on reach it.
		if err := nc.FlushTimeout(cmp(cfg.ConnectWait, DefaultConnectWait)); err != nil {
			logf("cluster: flush after subscribe: %v", err)
		}
	case <-time.After(cmp(cfg.ConnectWait, DefaultConnectWait)):
		logf("cluster: NATS %s not reachable yet; serving local members only and retrying every %v", cfg.URL, wait)
	}
	return n, nil
}

func cmp[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// ID returns the node id carried in every message this node publishes.
func (n *Node) ID() uint64 { return n.id }

// Publish delivers a message to the local members of room at once, then
// publishes it to the other nodes. It implements chatserver.Fanout; payload
// is not retained. When NATS is down, messages are kept in the NATS
// client's reconnect buffer (8 MiB) and sent on reconnect; beyond it they
// are not published (Status.PublishErrors).
func (n *Node) Publish(room string, op ws.OpCode, payload []byte) {
	n.local.DeliverLocal(room, op, payload)
	bp := bufPool.Get().(*[]byte)
	b := AppendMessage((*bp)[:0], n.id, op, payload)
	// nats.Conn.Publish copies b into its write buffer before returning.
	if err := n.nc.Publish(RoomSubject(room), b); err != nil {
		if n.publishErrors.Add(1) == 1 || n.connected.Load() {
			n.logf("cluster: publish to %s: %v", RoomSubject(room), err)
		}
	} else {
		n.published.Add(1)
	}
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		bufPool.Put(bp)
	}
}

// relay is the subscription handler: NATS calls it for one message at a
// time, in arrival order.
func (n *Node) relay(m *nats.Msg) {
	room, err := SubjectRoom(m.Subject)
	if err != nil {
		n.foreign.Add(1)
		return
	}
	node, op, payload, err := DecodeMessage(m.Data)
	if err != nil {
		n.foreign.Add(1)
		return
	}
	if node == n.id {
		n.echoes.Add(1) // already delivered locally
		return
	}
	n.received.Add(1)
	n.local.DeliverLocal(room, op, payload)
}

// Close unsubscribes and closes the NATS connection, flushing what was
// published. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if n.nc.IsConnected() {
			_ = n.nc.FlushTimeout(2 * time.Second)
		}
		n.nc.Close()
		n.connected.Store(false)
		n.logMu.Lock()
		n.closed = true
		n.logMu.Unlock()
	})
	return nil
}

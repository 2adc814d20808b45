package abuse

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
)

// ProbeConfig sets up the probe: a few normal clients in one room, some of
// which broadcast at a steady total rate; every client records the latency
// of every message it receives.
type ProbeConfig struct {
	Room    string  // room path, e.g. "/abuse-probe"
	Clients int     // clients in the room (all of them read)
	Senders int     // how many of them send (≤ Clients)
	Rate    float64 // messages per second across all senders
	Size    int     // payload bytes (at least 16)
}

// ProbeResult is what one probe run measured.
type ProbeResult struct {
	Connected int     `json:"connected"`
	Sent      int64   `json:"sent"`
	Received  int64   `json:"received"`
	Expected  int64   `json:"expected"` // sent × clients, for the clients still connected
	Dropped   int     `json:"dropped"`  // probe connections the server closed
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	Err       string  `json:"error,omitempty"`
}

// probe is one running probe; Stop ends it and returns the result.
type probe struct {
	cfg     ProbeConfig
	runID   uint64
	conns   []*rawConn
	mu      sync.Mutex
	hist    *hdrhistogram.Histogram
	sent    atomic.Int64
	recv    atomic.Int64
	joins   atomic.Int64 // join markers received
	dropped atomic.Int64
	cancel  context.CancelFunc
	wg      sync.WaitGroup // readers
	swg     sync.WaitGroup // senders
	stopped atomic.Bool
}

// startProbe connects the probe's clients and starts sending.
func startProbe(ctx context.Context, d dialer, cfg ProbeConfig) (*probe, error) {
	if cfg.Size < 16 {
		cfg.Size = 16
	}
	if cfg.Senders > cfg.Clients {
		cfg.Senders = cfg.Clients
	}
	p := &probe{cfg: cfg, runID: rand.Uint64(), hist: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)}
	for range cfg.Clients {
		c, err := d.ws(ctx, cfg.Room)
		if err != nil {
			for _, c := range p.conns {
				closeHard(c.nc)
			}
			return nil, fmt.Errorf("probe: connect %s: %w", cfg.Room, err)
		}
		p.conns = append(p.conns, c)
	}
	ctx, p.cancel = context.WithCancel(ctx)
	for _, c := range p.conns {
		p.wg.Add(1)
		go p.read(c)
	}
	// A server may answer 101 before the connection has joined its room
	// (ours did until it joined first), so a message sent right away can
	// miss the newest member. Every client sends a join marker (send time 0) and the
	// timetable starts once every client has received every marker.
	marker := make([]byte, cfg.Size)
	binary.BigEndian.PutUint64(marker[0:8], p.runID)
	want := int64(len(p.conns) * len(p.conns))
	for round := 0; round < 20 && p.joins.Load() < want; round++ {
		p.joins.Store(0)
		for _, c := range p.conns {
			c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.writeFrame(true, ws.OpBinary, marker); err != nil {
				p.Stop()
				return nil, fmt.Errorf("probe: join marker: %w", err)
			}
		}
		for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline) && p.joins.Load() < want; {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if p.joins.Load() < want {
		p.Stop()
		return nil, fmt.Errorf("probe: %d of %d clients did not see each other join %s", len(p.conns), len(p.conns), cfg.Room)
	}
	// Each sender keeps its own fixed timetable (open model): the send
	// time written into the message is the intended one, so a stalled
	// write shows up as latency instead of being hidden.
	interval := time.Duration(float64(time.Second) * float64(cfg.Senders) / cfg.Rate)
	start := time.Now()
	for i := range cfg.Senders {
		p.swg.Add(1)
		go p.send(ctx, p.conns[i], start.Add(time.Duration(i)*interval/time.Duration(cfg.Senders)), interval)
	}
	return p, nil
}

func (p *probe) send(ctx context.Context, c *rawConn, next time.Time, interval time.Duration) {
	defer p.swg.Done()
	buf := make([]byte, p.cfg.Size)
	binary.BigEndian.PutUint64(buf[0:8], p.runID)
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		binary.BigEndian.PutUint64(buf[8:16], uint64(next.UnixNano()))
		c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.writeFrame(true, ws.OpBinary, buf); err != nil {
			return
		}
		p.sent.Add(1)
		next = next.Add(interval)
		t.Reset(time.Until(next))
	}
}

func (p *probe) read(c *rawConn) {
	defer p.wg.Done()
	buf := make([]byte, 0, 64<<10)
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			if !p.stopped.Load() {
				p.dropped.Add(1)
			}
			return
		}
		if h.Length > 1<<20 {
			p.dropped.Add(1)
			return
		}
		buf = buf[:h.Length]
		if _, err := io.ReadFull(c.br, buf); err != nil {
			if !p.stopped.Load() {
				p.dropped.Add(1)
			}
			return
		}
		now := time.Now()
		if h.OpCode == ws.OpClose {
			if !p.stopped.Load() {
				p.dropped.Add(1)
			}
			return
		}
		if h.OpCode != ws.OpBinary || len(buf) < 16 || binary.BigEndian.Uint64(buf[0:8]) != p.runID {
			continue
		}
		ns := binary.BigEndian.Uint64(buf[8:16])
		if ns == 0 {
			p.joins.Add(1)
			continue
		}
		sent := time.Unix(0, int64(ns))
		us := now.Sub(sent).Microseconds()
		if us < 1 {
			us = 1
		}
		p.mu.Lock()
		p.hist.RecordValue(us)
		p.mu.Unlock()
		p.recv.Add(1)
	}
}

// Stop ends sending, waits a little for messages in flight, closes the
// clients and returns the result.
func (p *probe) Stop() ProbeResult {
	p.cancel()
	p.swg.Wait() // a write in progress finishes and is counted
	// Messages already sent get up to 3 s to arrive.
	sent := p.sent.Load()
	want := sent * int64(len(p.conns)-int(p.dropped.Load()))
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && p.recv.Load() < want; {
		time.Sleep(10 * time.Millisecond)
	}
	p.stopped.Store(true)
	for _, c := range p.conns {
		closeHard(c.nc)
	}
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	r := ProbeResult{
		Connected: len(p.conns),
		Sent:      p.sent.Load(),
		Received:  p.recv.Load(),
		Dropped:   int(p.dropped.Load()),
		P50ms:     float64(p.hist.ValueAtQuantile(50)) / 1000,
		P99ms:     float64(p.hist.ValueAtQuantile(99)) / 1000,
		MaxMs:     float64(p.hist.Max()) / 1000,
	}
	r.Expected = r.Sent * int64(r.Connected-r.Dropped)
	if r.Received == 0 {
		r.Err = "probe received no messages"
	}
	return r
}

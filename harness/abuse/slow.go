package abuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/harness/target"
)

// slowRcvbuf is the receive buffer of clients that never read: small, so
// that the server's send path fills after a few frames.
const slowRcvbuf = 4096

// openSilent upgrades n connections to room that will never be read.
func openSilent(ctx context.Context, d dialer, room string, n int) (conns []*rawConn, refused map[string]int) {
	var fails counter
	ch := make(chan *rawConn, n)
	parallel(ctx, n, 64, func(int) {
		c, err := d.ws(ctx, room)
		if err != nil {
			var r errRefused
			if errors.As(err, &r) {
				fails.add(fmt.Sprintf("http-%d", r.status))
			} else {
				fails.add("dial-" + codeKey(-1, err))
			}
			return
		}
		ch <- c
	})
	close(ch)
	for c := range ch {
		conns = append(conns, c)
	}
	return conns, fails.snapshot()
}

// slowBudget is how many bytes each non-reading client of slow-readers is
// sent: more than what a bounded connection may hold in the kernel (our
// server's --socket-buffer 64 KiB, which Linux doubles, plus our 4 KiB
// receive buffer), so a server that bounds its socket buffers blocks on
// them and its slow-consumer policy acts. With autotuned buffers (up to
// 4 MiB) it all fits and nothing is closed. 10,000 clients hold at most
// ~1.3 GiB of kernel memory that way, for a few seconds.
const slowBudget = 256 << 10

// slowReaders connects Config.SlowConns clients that never read to a room,
// broadcasts 8 KiB messages (10 per second) until each of them was sent
// slowBudget bytes, then waits the server's --write-timeout
// (Config.WriteTimeout) plus slack for the server to close them (watched on
// /metrics when it has wsbench_connections_open). Expectation:
// the server closes (nearly) all of them by its slow-consumer policy.
func slowReaders(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	const room = "/abuse-slow"
	const size = 8 << 10
	d := e.dialer(1)
	d.rcvbuf = slowRcvbuf
	before := settledScrape(ctx, e.target)
	start := time.Now()
	conns, refused := openSilent(ctx, d, room, e.cfg.SlowConns)
	out.Attempted = e.cfg.SlowConns
	for k, v := range refused {
		out.Codes[k] = v
	}
	out.Facts["connected"] = len(conns)
	out.Facts["connect_seconds"] = time.Since(start).Seconds()
	e.logf("slow-readers: %d connected in %.1fs; broadcasting %d × %d KiB", len(conns), time.Since(start).Seconds(), slowBudget/size, size>>10)

	// The broadcaster reads (it receives its own messages) and sends.
	b, err := e.dialer(1).ws(ctx, room)
	if err != nil {
		out.Failures = append(out.Failures, "broadcaster: "+err.Error())
		fates(ctx, conns, 0)
		return out
	}
	go io.Copy(io.Discard, b.nc)
	msg := make([]byte, size)
	sent := 0
	for range slowBudget / size {
		b.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if b.writeFrame(true, ws.OpBinary, msg) != nil {
			break
		}
		sent++
		sleepCtx(ctx, 100*time.Millisecond)
	}
	out.Facts["broadcasts"] = sent
	wait := time.Now()
	const openKey = "wsbench_connections_open"
	var last float64
	// Each non-reader's writer blocks at most --write-timeout once its
	// socket is full, so all must be closed by then; the slack covers
	// the CPU time of closing 10,000 of them.
	window := e.cfg.WriteTimeout + max(5*time.Second, e.cfg.WriteTimeout/2)
	out.Facts["window_s"] = window.Seconds()
	for time.Since(wait) < window && ctx.Err() == nil {
		sleepCtx(ctx, 500*time.Millisecond)
		m, err := e.target.Scrape(ctx)
		if err != nil {
			continue
		}
		v, ok := m[openKey]
		if !ok {
			continue
		}
		last = v
		if v <= before[openKey]+1 {
			break
		}
	}
	out.Facts["waited_s"] = time.Since(wait).Seconds()
	if _, ok := before[openKey]; ok {
		out.Facts["open_before"], out.Facts["open_after_wait"] = before[openKey], last
	}
	closeHard(b.nc)
	codes := fates(ctx, conns, 3*time.Second)
	for k, v := range codes {
		out.Codes[k] += v
	}
	closed, total := closedShare(codes)
	out.Facts["closed_by_server"] = closed
	if first, ok := before[openKey]; ok && last > 0 {
		// A non-reader cut with data still in the server's kernel send
		// buffer gets the FIN after that data, so it sees the close only
		// once it has read everything; draining 10,000 of them takes
		// longer than fates waits. The server's own gauge says whether
		// it let go (the broadcaster is still counted in last).
		stillOpen := min(max(0, int(last-first)-1), len(conns))
		out.Facts["open_by_gauge"] = stillOpen
		closed = max(closed, len(conns)-stillOpen)
		out.Facts["closed_by_server"] = closed
	}
	if total > 0 && float64(closed) < 0.99*float64(total) {
		out.Failures = append(out.Failures, fmt.Sprintf("only %d of %d non-reading clients were closed by the server within %.0fs (--write-timeout %v plus slack) after being sent %d KiB each", closed, total, time.Since(wait).Seconds(), e.cfg.WriteTimeout, sent*size>>10))
	}
	if total == 0 {
		out.Failures = append(out.Failures, "no slow client could connect")
	}
	return out
}

// slowClosesKey is our server's counter of slow-consumer closes.
const slowClosesKey = "wsbench_slow_consumer_closes_total"

func slowCloses(m target.Metrics) float64 {
	return m[slowClosesKey+`{reason="queue"}`] + m[slowClosesKey+`{reason="deadline"}`]
}

// slowRoom returns a scenario where n members of the room probe's room
// stop reading while the probe keeps broadcasting: the probe (the readers)
// must keep its latency, and the silent members must be closed by policy
// within Config.Window plus the server's --write-timeout plus 5 s (the
// wait ends early when /metrics shows n slow-consumer closes).
func slowRoom(n int) func(ctx context.Context, e *env) Outcome {
	return func(ctx context.Context, e *env) Outcome {
		out := newOutcome()
		d := e.dialer(2 + n%100)
		d.rcvbuf = slowRcvbuf
		before, _ := e.target.Scrape(ctx)
		conns, refused := openSilent(ctx, d, e.cfg.RoomProbe.Room, n)
		out.Attempted = n
		for k, v := range refused {
			out.Codes[k] = v
		}
		start := time.Now()
		window := e.cfg.Window + e.cfg.WriteTimeout + 5*time.Second
		for time.Since(start) < window && ctx.Err() == nil {
			sleepCtx(ctx, 250*time.Millisecond)
			if time.Since(start) < e.cfg.Window {
				continue // the probe measures at least a window with them
			}
			m, err := e.target.Scrape(ctx)
			if err == nil && slowCloses(m)-slowCloses(before) >= float64(len(conns)) {
				break
			}
		}
		out.Facts["silent_for_s"] = time.Since(start).Seconds()
		codes := fates(ctx, conns, 5*time.Second)
		for k, v := range codes {
			out.Codes[k] += v
		}
		closed, total := closedShare(codes)
		out.Facts["closed_by_server"] = closed
		if closed < total || total == 0 {
			out.Failures = append(out.Failures, fmt.Sprintf("%d of %d silent members were closed by the server within %.0fs", closed, n, time.Since(start).Seconds()))
		}
		return out
	}
}

// settledScrape scrapes /metrics until wsbench_connections_open reads the
// same twice in a row (connections that just finished their handshake are
// counted a moment after it), at most 2 s.
func settledScrape(ctx context.Context, t *Target) target.Metrics {
	const key = "wsbench_connections_open"
	prev, _ := t.Scrape(ctx)
	for i := 0; i < 10; i++ {
		sleepCtx(ctx, 200*time.Millisecond)
		m, err := t.Scrape(ctx)
		if err != nil {
			return prev
		}
		if m[key] == prev[key] {
			return m
		}
		prev = m
	}
	return prev
}

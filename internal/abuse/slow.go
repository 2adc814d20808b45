package abuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gobwas/ws"
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

// slowReaders connects Config.SlowConns clients that never read to a room
// where a broadcaster sends 8 KiB messages at 25/s, until the server has
// closed them (watched on /metrics when available) or 30 s have passed.
// Expectation: the server closes (nearly) all of them by its slow-consumer
// policy.
func slowReaders(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	const room = "/abuse-slow"
	d := e.dialer(1)
	d.rcvbuf = slowRcvbuf
	before, _ := e.target.Scrape(ctx)
	start := time.Now()
	conns, refused := openSilent(ctx, d, room, e.cfg.SlowConns)
	out.Attempted = e.cfg.SlowConns
	for k, v := range refused {
		out.Codes[k] = v
	}
	out.Facts["connected"] = len(conns)
	out.Facts["connect_seconds"] = time.Since(start).Seconds()
	e.logf("slow-readers: %d connected in %.1fs; broadcasting", len(conns), time.Since(start).Seconds())

	// The broadcaster reads (it receives its own messages) and sends.
	b, err := e.dialer(1).ws(ctx, room)
	if err != nil {
		out.Failures = append(out.Failures, "broadcaster: "+err.Error())
		fates(ctx, conns, 0)
		return out
	}
	go io.Copy(io.Discard, b.nc)
	bctx, stop := context.WithCancel(ctx)
	sent := make(chan int, 1)
	go func() {
		n := 0
		msg := make([]byte, 8<<10)
		t := time.NewTicker(40 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-bctx.Done():
				sent <- n
				return
			case <-t.C:
			}
			b.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if b.writeFrame(true, ws.OpBinary, msg) != nil {
				sent <- n
				return
			}
			n++
		}
	}()
	wait := time.Now()
	openKey := "wsbench_connections_open"
	for time.Since(wait) < 30*time.Second && ctx.Err() == nil {
		sleepCtx(ctx, 500*time.Millisecond)
		m, err := e.target.Scrape(ctx)
		if err != nil {
			continue
		}
		if v, ok := m[openKey]; ok && v <= before[openKey]+1 {
			break
		}
	}
	stop()
	out.Facts["broadcasts"] = <-sent
	out.Facts["closed_within_s"] = time.Since(wait).Seconds()
	closeHard(b.nc)
	codes := fates(ctx, conns, 3*time.Second)
	for k, v := range codes {
		out.Codes[k] += v
	}
	closed, total := closedShare(codes)
	out.Facts["closed_by_server"] = closed
	if total > 0 && float64(closed) < 0.99*float64(total) {
		out.Failures = append(out.Failures, fmt.Sprintf("only %d of %d non-reading clients were closed by the server", closed, total))
	}
	if total == 0 {
		out.Failures = append(out.Failures, "no slow client could connect")
	}
	return out
}

// slowRoom returns a scenario where n of the room probe's members stop
// reading: the probe (the readers) must keep its latency and the silent
// members must be closed by policy within Config.Window + 10 s.
func slowRoom(n int) func(ctx context.Context, e *env) Outcome {
	return func(ctx context.Context, e *env) Outcome {
		out := newOutcome()
		d := e.dialer(2 + n%100)
		d.rcvbuf = slowRcvbuf
		conns, refused := openSilent(ctx, d, e.cfg.RoomProbe.Room, n)
		out.Attempted = n
		for k, v := range refused {
			out.Codes[k] = v
		}
		// Keep the probe running for the window; the server should drop
		// the silent members meanwhile.
		sleepCtx(ctx, e.cfg.Window)
		codes := fates(ctx, conns, 10*time.Second)
		for k, v := range codes {
			out.Codes[k] += v
		}
		closed, total := closedShare(codes)
		out.Facts["closed_by_server"] = closed
		if closed < total || total == 0 {
			out.Failures = append(out.Failures, fmt.Sprintf("%d of %d silent members were closed by the server", closed, n))
		}
		return out
	}
}

package abuse

import (
	"context"
	"io"
	"net"
	"sync"
	"time"
)

// handshakeHold opens Config.Conns TCP connections that never finish the
// WebSocket handshake: half send nothing, half send an unfinished request
// header. It holds them for Config.Window plus 10 s (long enough for a
// 5-second header timeout to act) and records how many the server closed
// by itself.
func handshakeHold(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	hold := e.cfg.Window + 10*time.Second
	d := e.dialer(0)
	var (
		mu     sync.Mutex
		conns  []net.Conn
		opened []time.Time
		fails  counter
	)
	start := time.Now()
	// Paced at 2,000 connections per second: a flood, but one that
	// measures the server rather than how fast two shared cores can run
	// connect(2) on both ends at once.
	parallel(ctx, e.cfg.Conns, 128, func(i int) {
		sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*time.Second/2000)))
		nc, err := d.tcp(ctx)
		if err != nil {
			fails.add(codeKey(-1, err))
			return
		}
		if i%2 == 1 {
			nc.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(nc, "GET /abuse-hold HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
		}
		mu.Lock()
		conns = append(conns, nc)
		opened = append(opened, time.Now())
		mu.Unlock()
	})
	out.Attempted = e.cfg.Conns
	out.Facts["dial_seconds"] = time.Since(start).Seconds()
	out.Facts["opened"] = len(conns)
	for k, v := range fails.snapshot() {
		out.Codes["dial-"+k] = v
	}
	e.logf("handshake-hold: %d connections open (%.1fs), holding up to %v", len(conns), time.Since(start).Seconds(), hold)

	// Wait for the server to close them (EOF, possibly after an HTTP
	// error response) or for the hold to end.
	var closed counter
	var lastClose time.Duration
	var lmu sync.Mutex
	var wg sync.WaitGroup
	deadline := start.Add(hold)
	for i, nc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, io.LimitReader(nc, 1<<16))
			switch {
			case err == nil:
				closed.add("closed")
				lmu.Lock()
				lastClose = max(lastClose, time.Since(opened[i]))
				lmu.Unlock()
			default:
				closed.add(codeKey(-1, err))
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, nc := range conns {
			nc.SetReadDeadline(time.Now())
		}
		<-done
	}
	for _, nc := range conns {
		closeHard(nc)
	}
	for k, v := range closed.snapshot() {
		out.Codes[k] += v
	}
	out.Facts["server_closed_after_max_s"] = lastClose.Seconds()
	return out
}

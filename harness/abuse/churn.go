package abuse

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// churn opens and closes connections as fast as 32 workers can for
// Config.Window (at most 5,000), rotating through four ways to leave:
// a clean close handshake, a TCP reset after the upgrade, a reset in the
// middle of the HTTP request, and a reset right after sending a message.
// Expectation: afterwards the server's open-connection gauge (when it has
// one) returns to where it was.
func churn(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	d := e.dialer(7)
	before := settledScrape(ctx, e.target)
	wctx, cancel := context.WithTimeout(ctx, e.cfg.Window)
	defer cancel()
	var c counter
	var n atomic.Int64
	start := time.Now()
	parallel(wctx, 5000, 32, func(i int) {
		n.Add(1)
		switch i % 4 {
		case 0:
			rc, err := d.ws(wctx, "/abuse-churn")
			if err != nil {
				c.add("dial-" + codeKey(-1, err))
				return
			}
			rc.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
			rc.writeFrame(true, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
			code, err := rc.readClose(time.Now().Add(3 * time.Second))
			c.add("clean-" + codeKey(code, err))
			rc.nc.Close()
		case 1:
			rc, err := d.ws(wctx, "/abuse-churn")
			if err != nil {
				c.add("dial-" + codeKey(-1, err))
				return
			}
			closeHard(rc.nc)
			c.add("reset-after-upgrade")
		case 2:
			nc, err := d.tcp(wctx)
			if err != nil {
				c.add("dial-" + codeKey(-1, err))
				return
			}
			nc.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(nc, "GET /abuse-churn HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websock")
			closeHard(nc)
			c.add("reset-mid-request")
		case 3:
			rc, err := d.ws(wctx, "/abuse-churn")
			if err != nil {
				c.add("dial-" + codeKey(-1, err))
				return
			}
			rc.nc.SetWriteDeadline(time.Now().Add(time.Second))
			rc.writeFrame(true, ws.OpText, []byte("bye"))
			closeHard(rc.nc)
			c.add("reset-after-message")
		}
	})
	out.Attempted = int(n.Load())
	out.Codes = c.snapshot()
	out.Facts["per_second"] = float64(out.Attempted) / time.Since(start).Seconds()
	const key = "wsbench_connections_open"
	if _, ok := before[key]; ok {
		var last float64
		back := false
		for t := time.Now(); time.Since(t) < 15*time.Second && ctx.Err() == nil; sleepCtx(ctx, 250*time.Millisecond) {
			m, err := e.target.Scrape(ctx)
			if err != nil {
				continue
			}
			last = m[key]
			if last <= before[key] {
				back = true
				break
			}
		}
		out.Facts["open_before"], out.Facts["open_after"] = before[key], last
		if !back {
			out.Failures = append(out.Failures, fmt.Sprintf("open connections %v did not return to %v within 15s", last, before[key]))
		}
	}
	return out
}

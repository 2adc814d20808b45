package abuse

import (
	"context"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/harness/target"
)

// partialMessages opens Config.PartialConns connections that each declare a
// 65,535-byte binary frame (within the default 64 KiB --max-message) and
// then send only 1 KiB of it, holding the rest back for Config.Window: a
// server that allocates the declared length up front (or buffers whole
// messages) pays up to 64 KiB per connection. The peak RSS shows what the
// server pays; the common RSS limit judges it.
func partialMessages(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	d := e.dialer(8)
	var (
		mu    sync.Mutex
		conns []*rawConn
		c     counter
	)
	var before target.Memory
	if e.cfg.ServerPID != 0 {
		before, _ = target.ReadMemory(e.cfg.ServerPID)
	}
	parallel(ctx, e.cfg.PartialConns, 64, func(int) {
		rc, err := d.ws(ctx, "/abuse-partial")
		if err != nil {
			c.add("dial-" + codeKey(-1, err))
			return
		}
		mask := newMask()
		body := make([]byte, 1024)
		ws.Cipher(body, mask, 0)
		rc.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		rc.nc.Write(append(header(true, ws.OpBinary, 65535, mask), body...))
		mu.Lock()
		conns = append(conns, rc)
		mu.Unlock()
	})
	out.Attempted = e.cfg.PartialConns
	out.Facts["held"] = len(conns)
	sleepCtx(ctx, e.cfg.Window)
	if e.cfg.ServerPID != 0 {
		if m, err := target.ReadMemory(e.cfg.ServerPID); err == nil && len(conns) > 0 {
			out.Facts["rss_growth_per_conn_KiB"] = float64(m.RSS-before.RSS) / 1024 / float64(len(conns))
		}
	}
	// Nothing was answered yet: a close frame now would mean the server
	// gave up on the partial frame by itself (e.g. a read timeout).
	for k, v := range fates(ctx, conns, 200*time.Millisecond) {
		out.Codes[k] += v
	}
	for k, v := range c.snapshot() {
		out.Codes[k] += v
	}
	return out
}

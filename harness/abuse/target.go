package abuse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wsbench/wsbench/harness/target"
)

// ErrNotLoopback is returned for a target whose host is not a loopback
// address: the abuse program only attacks servers on this machine.
var ErrNotLoopback = target.ErrNotLoopback

// Target is the server under test: its loopback endpoint (harness/target)
// and a health check that also accepts a WebSocket-only server.
type Target struct {
	*target.Endpoint
}

// NewTarget parses a ws:// URL and checks that its host resolves only to
// loopback addresses.
func NewTarget(raw string) (*Target, error) {
	e, err := target.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return &Target{e}, nil
}

// Healthz asks /healthz and returns nil on 200. A server without that
// endpoint (404, or 426 from a WebSocket-only server such as Node's ws)
// counts as healthy when a WebSocket handshake to it succeeds.
func (t *Target) Healthz(ctx context.Context) error {
	err := t.Endpoint.Healthz(ctx)
	if !errors.Is(err, target.ErrNoHealthz) {
		return err
	}
	rc, werr := dialer{target: t}.ws(ctx, "/abuse-health")
	if werr != nil {
		return fmt.Errorf("%v and the WebSocket handshake failed: %w", err, werr)
	}
	closeHard(rc.nc)
	return nil
}

// HealthzWithin polls Healthz until it passes or d has passed.
func (t *Target) HealthzWithin(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := t.Healthz(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// CloseCodesSent returns the increase of wsbench_close_codes_sent_total by
// code label between two scrapes of our server (empty for other servers).
func CloseCodesSent(before, after target.Metrics) map[string]int {
	const prefix = `wsbench_close_codes_sent_total{code="`
	out := map[string]int{}
	for k, v := range after {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		d := int(v - before[k])
		if d > 0 {
			out[strings.TrimSuffix(k[len(prefix):], `"}`)] = d
		}
	}
	return out
}

package abuse

import (
	"context"
	"fmt"

	"github.com/wsbench/wsbench/internal/storm"
)

// reconnectStorm runs internal/storm with Config.StormClients clients: its
// own in-process server on another loopback port (it has to restart it),
// so the probe and /healthz checks here still watch the target beside it.
// Expectation: every client is back within the storm's bound and no 100 ms
// bucket holds 40 % or more of the reconnects.
func reconnectStorm(ctx context.Context, e *env) Outcome {
	out := newOutcome()
	cfg := storm.DefaultConfig()
	cfg.Clients = e.cfg.StormClients
	cfg.Server.MaxConns = cfg.Clients + 100
	out.Attempted = cfg.Clients
	res, err := storm.Run(ctx, cfg, e.logf)
	if err != nil {
		out.Failures = append(out.Failures, "storm: "+err.Error())
		return out
	}
	out.Codes["back"] = res.Reconnected
	if missing := res.Clients - res.Reconnected; missing > 0 {
		out.Codes["missing"] = missing
		out.Failures = append(out.Failures, fmt.Sprintf("%d of %d clients did not reconnect within %v", missing, res.Clients, cfg.Bound))
	}
	out.Facts["all_back_s"] = res.AllBackSeconds
	out.Facts["server_down_s"] = res.DowntimeSeconds
	out.Facts["peak_connects_per_100ms"] = res.PeakPerBucket
	out.Facts["peak_share"] = res.PeakShare
	out.Facts["peak_attempts_per_100ms"] = res.PeakAttempts
	out.Facts["attempts"] = res.Attempts
	out.Facts["refused"] = res.Refused
	if res.PeakShare >= 0.4 {
		out.Failures = append(out.Failures, fmt.Sprintf("thundering herd: %d of %d reconnects (%.0f%%) in one 100 ms bucket", res.PeakPerBucket, res.Clients, 100*res.PeakShare))
	}
	return out
}

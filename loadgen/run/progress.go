package run

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Tick is one line of the interval log (--interval-log, JSON lines).
type Tick struct {
	T           float64 `json:"t_s"` // seconds since the run started
	Phase       string  `json:"phase"`
	Connected   int64   `json:"connected"`
	Sent        int64   `json:"sent"`       // broadcasts sent in this second
	Deliveries  int64   `json:"deliveries"` // deliveries received in this second
	P50Ms       float64 `json:"p50_ms"`     // of this second's deliveries
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Undelivered float64 `json:"undelivered"` // measured deliveries still owed, fraction (in flight or lost)
	Foreign     int64   `json:"foreign"`
}

// progress writes a status line every second until ctx ends.
func (r *runner) progress(ctx context.Context, started time.Time) {
	if r.cfg.Progress == nil && r.cfg.IntervalLog == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastSent int64
	var enc *json.Encoder
	if r.cfg.IntervalLog != nil {
		enc = json.NewEncoder(r.cfg.IntervalLog)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		iv := r.stats.Tick()
		sent := r.sentAll.Load()
		tk := Tick{
			T:          time.Since(started).Round(time.Millisecond).Seconds(),
			Phase:      r.phase.Load().(string),
			Connected:  r.connected.Load(),
			Sent:       sent - lastSent,
			Deliveries: iv.Deliveries,
			P50Ms:      float64(iv.P50) / 1000,
			P99Ms:      float64(iv.P99) / 1000,
			MaxMs:      float64(iv.MaxMicro) / 1000,
			Foreign:    iv.Foreign,
		}
		lastSent = sent
		// sentWin > 0 only once the ramp is over, so owedNow may read
		// the members.
		if sent := r.sentWin.Load(); sent > 0 && r.owedNow(sent) > 0 {
			owed := r.owedNow(sent)
			tk.Undelivered = max(0, 1-float64(iv.Delivered)/float64(owed))
		}
		if r.cfg.Progress != nil {
			fmt.Fprintf(r.cfg.Progress, "%6.1fs %-7s connected %d/%d  sent %d/s  delivered %d/s  p50 %.2fms p99 %.2fms max %.2fms (last 1s)  undelivered %.2f%%  max lag %.1fms\n",
				tk.T, tk.Phase, tk.Connected, r.cfg.Clients, tk.Sent, tk.Deliveries, tk.P50Ms, tk.P99Ms, tk.MaxMs, 100*tk.Undelivered, float64(r.maxLag.Load())/1e6)
		}
		if enc != nil {
			_ = enc.Encode(tk)
		}
	}
}

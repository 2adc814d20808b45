package run

import (
	"errors"
	"fmt"

	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/receive"
	"github.com/wsbench/wsbench/loadgen/report"
)

// readerOptions are client i's receive options, with kernel receive
// timestamps unless Config.UserClock.
func (r *runner) readerOptions(i int) receive.Options {
	o := r.world.readerOptions(r.cfg, i)
	o.RxTimestamps = !r.cfg.UserClock
	return o
}

// rxClock records which clock the receipt times came from. Deliveries are
// timed by the kernel's receive stamp where the socket had one; the rest
// (--rx-timestamps=false, TLS, no kernel support, segments queued before
// stamping was on) by time.Now as the reader parsed them.
func (r *runner) rxClock(rep *report.Report) {
	var stamped, readers, off int64
	var why error
	for _, m := range r.members {
		if m == nil {
			continue
		}
		readers++
		stamped += m.reader.RxStamped
		if m.reader.RxErr != nil {
			off++
			if why == nil {
				why = m.reader.RxErr
			}
		}
	}
	g := &rep.Generator
	g.KernelStamped = stamped
	deliveries := rep.LatencyMs.Count
	switch {
	case r.cfg.UserClock || stamped == 0:
		g.Clock = client.RxClockUser
	case stamped >= deliveries:
		g.Clock = client.RxClockKernel
	default:
		g.Clock = "mixed"
	}
	if !r.cfg.UserClock && off > 0 {
		msg := fmt.Sprintf("%d of %d connections have no kernel receive timestamps (%v): their latencies are taken in user space and include the generator's read-out", off, readers, why)
		if errors.Is(why, client.ErrRxUnsupported) && off == readers {
			msg = fmt.Sprintf("no kernel receive timestamps (%v): latencies are taken in user space and include the generator's read-out", why)
		}
		g.Warnings = append(g.Warnings, msg)
	}
}

package shard

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
)

// Result is what a part sends back (JSON, the last message of the
// protocol): its report and the data for an exact merge.
type Result struct {
	Report *report.Report `json:"report"`
	Error  string         `json:"error,omitempty"`
	// Window: slots Lo…Hi of the timetable starting at StartNs (the
	// part's clock).
	StartNs int64  `json:"start_ns,omitempty"`
	Lo      uint64 `json:"lo,omitempty"`
	Hi      uint64 `json:"hi,omitempty"`
	// LastReceipts is base64 of little-endian int64 Unix ns per slot: when
	// the part's last receiver got it (0 = never).
	LastReceipts string `json:"last_receipts,omitempty"`
}

// Link is a part's side of the two middle messages: Ready tells the
// coordinator how many connections the ramp established, Start waits for
// the common start instant (an error for an abort, a lost coordinator or
// a timeout).
type Link struct {
	Ready func(established int) error
	Start func() (time.Time, error)
}

// RunPart runs cfg, one part's configuration (Spec.Config plus the
// transport's writers), speaking the protocol through link: after the
// ramp it says ready and waits for the start; a run that ends before its
// ramp is done (a usage error, no server) still says ready, since the
// coordinator waits for that line. It returns the part's packed Result.
func RunPart(ctx context.Context, cfg run.Config, link Link) Result {
	gated := false
	cfg.Gate = func(established int) (time.Time, error) {
		gated = true
		if err := link.Ready(established); err != nil {
			return time.Time{}, err
		}
		return link.Start()
	}
	res, err := run.Detailed(ctx, cfg)
	if !gated {
		established := 0
		if res != nil && res.Report != nil {
			established = int(res.Report.Connections.Established)
		}
		_ = link.Ready(established)
	}
	return Pack(res, err)
}

// Pack turns a part's run.Detailed outcome into its Result. Not
// connecting at all is not an error of the part: its report says so.
func Pack(res *run.Result, err error) Result {
	var out Result
	if err != nil && !errors.Is(err, run.ErrNoConnection) {
		out.Error = err.Error()
	}
	if res != nil {
		out.Report = res.Report
		if res.Window != nil {
			out.StartNs = res.Window.Table.Start.UnixNano()
			out.Lo, out.Hi = res.Window.Lo, res.Window.Hi
			out.LastReceipts = EncodeReceipts(res.LastReceipts)
		}
	}
	return out
}

// EncodeReceipts is the LastReceipts encoding of per-slot receipt times.
func EncodeReceipts(last []int64) string {
	b := make([]byte, 8*len(last))
	for i, t := range last {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(t))
	}
	return base64.StdEncoding.EncodeToString(b)
}

package bench

import (
	"fmt"
	"io"
	"time"
)

// Progress prints "[i/N elapsed, ETA …]" lines. Each planned step carries an
// estimate of its duration; the ETA scales the remaining estimates by how
// long the finished steps really took compared with theirs. Not safe for
// concurrent use.
type Progress struct {
	w         io.Writer
	start     time.Time
	now       func() time.Time
	total     int
	done      int
	estTotal  time.Duration // estimate of all planned steps
	estDone   time.Duration // estimate of finished steps
	spentDone time.Duration // real time of finished steps
	stepStart time.Time
	stepEst   time.Duration
}

// NewProgress starts a progress line writer for total planned steps whose
// durations sum to est.
func NewProgress(w io.Writer, total int, est time.Duration) *Progress {
	p := &Progress{w: w, now: time.Now, total: total, estTotal: est}
	p.start = p.now()
	return p
}

// Drop removes n planned steps of est total (a search that stopped early).
func (p *Progress) Drop(n int, est time.Duration) {
	p.total -= n
	p.estTotal -= est
}

// Begin announces the next step.
func (p *Progress) Begin(est time.Duration, format string, a ...any) {
	p.stepStart = p.now()
	p.stepEst = est
	fmt.Fprintf(p.w, "[bench %d/%d %s elapsed, ETA %s] %s\n", p.done+1, p.total,
		round(p.now().Sub(p.start)), round(p.ETA()), fmt.Sprintf(format, a...))
}

// End finishes the step with a result line.
func (p *Progress) End(format string, a ...any) {
	p.done++
	p.estDone += p.stepEst
	p.spentDone += p.now().Sub(p.stepStart)
	fmt.Fprintf(p.w, "    %s\n", fmt.Sprintf(format, a...))
}

// ETA is the estimated time left.
func (p *Progress) ETA() time.Duration {
	left := p.estTotal - p.estDone
	if left < 0 {
		left = 0
	}
	if p.estDone > 0 {
		left = time.Duration(float64(left) * float64(p.spentDone) / float64(p.estDone))
	}
	return left
}

func round(d time.Duration) time.Duration { return d.Round(time.Second) }

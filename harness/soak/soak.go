// Package soak runs a long steady broadcast against a server and watches
// the server for drift: it starts the loadgen command for the duration,
// samples the server's resident memory (/proc/<pid>/status) and goroutine
// count (go_goroutines on /metrics) at a fixed interval, and compares the
// first third of the samples with the last third. A server that leaks
// memory or goroutines under steady load shows a rising last third; loss
// comes from the loadgen report.
package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wsbench/wsbench/harness/target"
	"github.com/wsbench/wsbench/loadgen/report"
)

// Defaults of Config.
const (
	DefaultDuration          = 10 * time.Minute
	DefaultInterval          = 10 * time.Second
	DefaultClients           = 200
	DefaultRate              = 200
	DefaultSize              = 256
	DefaultMaxRSSDrift       = 0.5
	DefaultMaxGoroutineDrift = 0.1
)

// Config is one soak.
type Config struct {
	URL               string        // ws:// URL of the room to load (loopback)
	ServerPID         int           // server process to sample (required)
	Loadgen           string        // path of the loadgen binary
	Duration          time.Duration // measured length of the steady broadcast
	Interval          time.Duration // sampling period
	Clients           int           // loadgen --clients
	Rate              float64       // loadgen --rate (broadcasts per second)
	Size              int           // loadgen --size
	MaxRSSDrift       float64       // fail when last-third mean RSS exceeds the first third by this fraction
	MaxGoroutineDrift float64       // same for goroutines (plus 10 goroutines of slack)
}

// DefaultConfig returns the configuration the command starts from.
func DefaultConfig() Config {
	return Config{Duration: DefaultDuration, Interval: DefaultInterval, Clients: DefaultClients, Rate: DefaultRate, Size: DefaultSize, MaxRSSDrift: DefaultMaxRSSDrift, MaxGoroutineDrift: DefaultMaxGoroutineDrift}
}

// Validate reports settings that cannot work, saying what to do.
func (c Config) Validate() error {
	var errs []error
	if _, err := target.ParseURL(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("--url: %w", err))
	}
	if c.ServerPID <= 0 {
		errs = append(errs, errors.New("--server-pid is required: the soak samples the server's /proc/<pid>/status"))
	}
	if c.Loadgen == "" {
		errs = append(errs, errors.New("--loadgen is required: path of a built loadgen binary (go build -o bin/ ./loadgen)"))
	}
	if c.Duration < 30*time.Second {
		errs = append(errs, fmt.Errorf("--duration %v: a soak needs at least 30s (three thirds of samples)", c.Duration))
	}
	if c.Interval < time.Second || c.Interval > c.Duration/3 {
		errs = append(errs, fmt.Errorf("--interval %v must be between 1s and a third of --duration", c.Interval))
	}
	if c.Clients < 2 || c.Rate <= 0 || c.Size < 32 {
		errs = append(errs, errors.New("need --clients ≥ 2, --rate > 0, --size ≥ 32"))
	}
	if c.MaxRSSDrift <= 0 || c.MaxGoroutineDrift <= 0 {
		errs = append(errs, errors.New("drift limits must be positive fractions, e.g. 0.5"))
	}
	return errors.Join(errs...)
}

// Sample is one reading of the server.
type Sample struct {
	At         float64 `json:"t_s"`        // seconds since the start
	RSSMiB     float64 `json:"rss_mib"`    // VmRSS
	Goroutines float64 `json:"goroutines"` // go_goroutines (-1 when the server has none)
	Open       float64 `json:"open"`       // wsbench_connections_open (-1 when absent)
}

// Drift compares the first and last third of a series.
type Drift struct {
	First  float64 `json:"first_third_mean"`
	Last   float64 `json:"last_third_mean"`
	Change float64 `json:"change"` // (Last-First)/First
}

// Thirds computes the Drift of v (at least 3 values).
func Thirds(v []float64) (Drift, error) {
	if len(v) < 3 {
		return Drift{}, fmt.Errorf("soak: %d samples; need at least 3", len(v))
	}
	n := len(v) / 3
	mean := func(s []float64) float64 {
		t := 0.0
		for _, x := range s {
			t += x
		}
		return t / float64(len(s))
	}
	d := Drift{First: mean(v[:n]), Last: mean(v[len(v)-n:])}
	if d.First != 0 {
		d.Change = (d.Last - d.First) / d.First
	}
	return d, nil
}

// Result is a finished soak.
type Result struct {
	Started    time.Time      `json:"started"`
	Config     Config         `json:"config"`
	Samples    []Sample       `json:"samples"`
	RSS        Drift          `json:"rss_mib"`
	Goroutines Drift          `json:"goroutines"`
	Load       *report.Report `json:"-"`
	LoadgenRC  int            `json:"loadgen_exit"`
	Failures   []string       `json:"failures,omitempty"`
	Pass       bool           `json:"pass"`
}

// Run starts the loadgen for Config.Duration (plus a 5 s warmup) and
// samples the server until the loadgen exits. Progress lines go to w.
func Run(ctx context.Context, cfg Config, w io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, _ := target.ParseURL(cfg.URL)
	tmp, err := os.MkdirTemp("", "soak")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "loadgen.json")
	args := []string{"--url", cfg.URL, "--clients", strconv.Itoa(cfg.Clients), "--rate", strconv.FormatFloat(cfg.Rate, 'f', -1, 64),
		"--size", strconv.Itoa(cfg.Size), "--warmup", "5s", "--duration", cfg.Duration.String(), "--out", out, "-q"}
	cmd := exec.CommandContext(ctx, cfg.Loadgen, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res := &Result{Started: time.Now().UTC(), Config: cfg}
	fmt.Fprintf(w, "soak: %s %v\n", cfg.Loadgen, args)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start loadgen: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	start := time.Now()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	var werr error
loop:
	for {
		select {
		case werr = <-done:
			break loop
		case <-tick.C:
		}
		s := Sample{At: time.Since(start).Seconds(), Goroutines: -1, Open: -1}
		m, err := target.ReadMemory(cfg.ServerPID)
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("server process %d: %v", cfg.ServerPID, err))
			cmd.Process.Kill()
			werr = <-done
			break loop
		}
		s.RSSMiB = float64(m.RSS) / (1 << 20)
		if mt, err := t.Scrape(ctx); err == nil {
			if v, ok := mt["go_goroutines"]; ok {
				s.Goroutines = v
			}
			if v, ok := mt["wsbench_connections_open"]; ok {
				s.Open = v
			}
		}
		res.Samples = append(res.Samples, s)
		fmt.Fprintf(w, "soak: %5.0fs rss %.1f MiB goroutines %.0f open %.0f\n", s.At, s.RSSMiB, s.Goroutines, s.Open)
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		res.LoadgenRC = ee.ExitCode()
	} else if werr != nil {
		return nil, fmt.Errorf("loadgen: %w", werr)
	}
	if res.LoadgenRC != 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("loadgen exited %d: %s", res.LoadgenRC, lastLine(stderr.String())))
	}
	if rep, err := report.ReadFile(out); err == nil {
		res.Load = rep
	} else {
		res.Failures = append(res.Failures, fmt.Sprintf("no loadgen report: %v", err))
	}
	res.judge()
	return res, nil
}

func lastLine(s string) string {
	s = string(bytes.TrimSpace([]byte(s)))
	if i := bytes.LastIndexByte([]byte(s), '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// judge fills the drifts and the verdict.
func (r *Result) judge() {
	// The first samples include the ramp and warmup: drift is judged on
	// samples taken after the loadgen's warmup (≥ 10 s in).
	var rss, gor []float64
	for _, s := range r.Samples {
		if s.At < 10 {
			continue
		}
		rss = append(rss, s.RSSMiB)
		if s.Goroutines >= 0 {
			gor = append(gor, s.Goroutines)
		}
	}
	var err error
	if r.RSS, err = Thirds(rss); err != nil {
		r.Failures = append(r.Failures, "RSS: "+err.Error())
	} else if r.RSS.Change > r.Config.MaxRSSDrift {
		r.Failures = append(r.Failures, fmt.Sprintf("RSS drift %+.0f%% (first third %.1f MiB, last %.1f MiB) exceeds %+.0f%%", 100*r.RSS.Change, r.RSS.First, r.RSS.Last, 100*r.Config.MaxRSSDrift))
	}
	if len(gor) > 0 {
		if r.Goroutines, err = Thirds(gor); err == nil && r.Goroutines.Last > r.Goroutines.First*(1+r.Config.MaxGoroutineDrift)+10 {
			r.Failures = append(r.Failures, fmt.Sprintf("goroutines rose from %.0f to %.0f (first vs last third)", r.Goroutines.First, r.Goroutines.Last))
		}
	}
	if l := r.Load; l != nil {
		if l.Messages.Lost != 0 {
			r.Failures = append(r.Failures, fmt.Sprintf("loadgen lost %d of %d messages", l.Messages.Lost, l.Messages.Expected))
		}
		if l.Connections.Dropped != 0 {
			r.Failures = append(r.Failures, fmt.Sprintf("%d loadgen connections were dropped", l.Connections.Dropped))
		}
		if l.Messages.Delivered == 0 {
			r.Failures = append(r.Failures, "no message was delivered")
		}
	}
	r.Pass = len(r.Failures) == 0
}

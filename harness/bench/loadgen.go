package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/wsbench/wsbench/harness/target"
	"github.com/wsbench/wsbench/loadgen/report"
)

// Load is one loadgen run's parameters.
type Load struct {
	Clients  int
	Senders  int // 0 = all
	Rate     float64
	Size     int
	Duration time.Duration
	Warmup   time.Duration
	Ramp     float64
	// ServerPID, when set, is passed as --server-pid: the loadgen reports
	// the server's CPU µs per delivery over its measured window.
	ServerPID int
}

// ExitUsage is the loadgen's exit code for a usage error; the bench stops
// on it, since every later run would fail the same way.
const ExitUsage = 2

// ErrLoadgenUsage is returned by RunLoadgen when the loadgen refused its
// flags.
var ErrLoadgenUsage = errors.New("loadgen refused its flags")

// LoadResult is the outcome of one loadgen run.
type LoadResult struct {
	Report     *report.Report
	ExitCode   int
	CPUSeconds float64 // the loadgen's own user+system time
	Wall       time.Duration
}

// Generator runs the loadgen binary pinned to a CPU.
type Generator struct {
	Bin  string
	CPU  int // -1: no pinning
	Nice int // niceness; 0 leaves it
}

// Args returns the loadgen flags for l against url.
func (l Load) Args(url, out, hgrm string) []string {
	a := []string{
		"--url", url,
		"--clients", strconv.Itoa(l.Clients),
		"--rate", strconv.FormatFloat(l.Rate, 'f', -1, 64),
		"--size", strconv.Itoa(l.Size),
		"--duration", l.Duration.String(),
		"--warmup", l.Warmup.String(),
		"--out", out,
		"--hgrm", hgrm,
	}
	if l.Senders > 0 {
		a = append(a, "--senders", strconv.Itoa(l.Senders))
	}
	if l.Ramp > 0 {
		a = append(a, "--ramp", strconv.FormatFloat(l.Ramp, 'f', -1, 64))
	}
	if l.ServerPID > 0 {
		a = append(a, "--server-pid", strconv.Itoa(l.ServerPID))
	}
	return a
}

// Run runs one load against url, writing base+".json", ".hgrm" and ".log".
// A run that produced no report (could not connect: exit 3, or crashed)
// returns a result with a nil Report and no error; a usage error returns
// ErrLoadgenUsage.
func (g Generator) Run(ctx context.Context, url string, l Load, base string) (LoadResult, error) {
	argv := append([]string{g.Bin}, l.Args(url, base+".json", base+".hgrm")...)
	argv = target.Pinned(argv, g.CPU, g.Nice)
	connect := time.Duration(float64(l.Clients)/500*float64(time.Second)) + 30*time.Second
	ctx, cancel := context.WithTimeout(ctx, l.Warmup+l.Duration+connect)
	defer cancel()
	logf, err := os.Create(base + ".log")
	if err != nil {
		return LoadResult{}, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# %s\n", joinArgs(argv))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	res := LoadResult{Wall: time.Since(start), ExitCode: cmd.ProcessState.ExitCode()}
	if ps := cmd.ProcessState; ps != nil {
		res.CPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return res, fmt.Errorf("loadgen: %w", err)
	}
	if res.ExitCode == ExitUsage {
		msg, _ := os.ReadFile(base + ".log")
		return res, fmt.Errorf("%w: %s", ErrLoadgenUsage, tail(string(msg), 600))
	}
	if r, err := report.ReadFile(base + ".json"); err == nil {
		res.Report = r
	}
	return res, nil
}

func joinArgs(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

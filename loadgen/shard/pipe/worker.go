package pipe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsbench/wsbench/loadgen/run"
)

var interruptSignal os.Signal = syscall.SIGINT

// WorkerMain is the hidden `loadgen worker` subcommand: it reads its Spec
// and start time from stdin and writes "ready N" and its WorkerResult to
// stdout (see the package comment). Progress goes to stderr. It returns
// the process exit code (0 when a result was written).
func WorkerMain(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
	in := bufio.NewReader(stdin)
	line, err := in.ReadBytes('\n')
	if err != nil {
		fmt.Fprintf(stderr, "loadgen worker: no spec on stdin (this subcommand is started by loadgen --procs): %v\n", err)
		return 2
	}
	var spec Spec
	if err := json.Unmarshal(line, &spec); err != nil {
		fmt.Fprintf(stderr, "loadgen worker: bad spec: %v\n", err)
		return 2
	}
	cfg := run.Config{
		URL: spec.URL, Clients: spec.Clients, Senders: max(spec.Senders, 0), Rate: spec.Rate, Size: spec.Size,
		Duration: spec.Duration, Warmup: spec.Warmup, Drain: spec.Drain, Ramp: spec.Ramp,
		ConnectTimeout: spec.ConnectTimeout, MaxSendLag: spec.MaxSendLag, UserClock: spec.UserClock, SourceIPs: parseIPs(spec.SourceIPs),
		RunID: spec.RunID, SenderBase: spec.SenderBase, ClientBase: spec.ClientBase, TotalSenders: spec.TotalSenders,
	}
	if spec.Senders < 0 {
		cfg.SenderBase = spec.TotalSenders // owns no sender ids
		cfg.NoSenders = true
	}
	cfg.Log = stderr // forwarded by the coordinator
	if spec.Progress {
		cfg.Progress = stderr
	}
	if spec.Ticks {
		cfg.IntervalLog = tickWriter{stderr}
	}
	gated := false
	cfg.Gate = func(established int) (time.Time, error) {
		gated = true
		fmt.Fprintf(stdout, "ready %d\n", established)
		l, err := in.ReadString('\n')
		if err != nil {
			return time.Time{}, err
		}
		f := strings.Fields(l)
		if len(f) != 2 || f[0] != "start" {
			return time.Time{}, fmt.Errorf("coordinator said %q", strings.TrimSpace(l))
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return time.Time{}, err
		}
		return time.Unix(0, ns), nil
	}
	res, err := run.Detailed(ctx, cfg)
	out := WorkerResult{}
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
	if !gated {
		// The coordinator still waits for a ready line.
		established := int64(0)
		if res != nil {
			established = res.Report.Connections.Established
		}
		fmt.Fprintf(stdout, "ready %d\n", established)
	}
	b, _ := json.Marshal(out)
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}

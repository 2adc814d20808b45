package pipe

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsbench/wsbench/loadgen/shard"
)

var interruptSignal os.Signal = syscall.SIGINT

// WorkerMain is the hidden `loadgen worker` subcommand: it reads its
// shard.Spec and start time from stdin and writes "ready N" and its
// shard.Result to stdout (see the package comment). Warnings and ticks go
// to stderr. It returns the process exit code (0 when a result was
// written).
func WorkerMain(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
	in := bufio.NewReader(stdin)
	line, err := in.ReadBytes('\n')
	if err != nil {
		fmt.Fprintf(stderr, "loadgen worker: no spec on stdin (this subcommand is started by loadgen --procs): %v\n", err)
		return 2
	}
	var spec shard.Spec
	if err := json.Unmarshal(line, &spec); err != nil {
		fmt.Fprintf(stderr, "loadgen worker: bad spec: %v\n", err)
		return 2
	}
	cfg := spec.Config()
	cfg.Log = stderr // forwarded by the coordinator
	if spec.Progress {
		cfg.Progress = stderr
	}
	if spec.Ticks {
		cfg.IntervalLog = tickWriter{stderr}
	}
	res := shard.RunPart(ctx, cfg, shard.Link{
		Ready: func(established int) error {
			_, err := fmt.Fprintf(stdout, "ready %d\n", established)
			return err
		},
		Start: func() (time.Time, error) {
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
		},
	})
	b, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}

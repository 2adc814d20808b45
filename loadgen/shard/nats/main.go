package nats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/spf13/pflag"
)

const agentUsage = `usage: loadgen agent --nats nats://HOST:PORT [--id NAME]

Waits on the NATS server for runs handed out by a controller
(loadgen --agents N --nats nats://HOST:PORT --url … --clients …), runs its
share of each (one at a time) and sends back its report. Stops on Ctrl-C
(a run in progress is interrupted and still reports).

Example (three machines, one NATS server on 10.0.0.1):
  machine A, B:  loadgen agent --nats nats://10.0.0.1:4222
  machine C:     loadgen --agents 2 --nats nats://10.0.0.1:4222 --url ws://10.0.0.9:8181/ --clients 40000 --rate 1000 --out run.json

Flags:
`

// Main is `loadgen agent`; it returns the exit code (0 ok, 1 could not
// connect, 2 usage error).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("loadgen agent", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := &Agent{Log: stderr}
	fs.StringVar(&a.NATS, "nats", "", "NATS server where the controller hands out runs (required), e.g. nats://127.0.0.1:4222")
	fs.StringVar(&a.ID, "id", "", "agent id, unique among agents (default host-pid-random)")
	fs.StringVar(&a.Reports, "reports", "", "also write this agent's own report of every run into this directory")
	fs.DurationVar(&a.StartWait, "start-wait", DefaultStartWait, "give up a run when the start signal does not come this long after the ramp")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, agentUsage+fs.FlagUsages())
			return 0
		}
		fmt.Fprintf(stderr, "loadgen agent: %v\n%s%s", err, agentUsage, fs.FlagUsages())
		return 2
	}
	u, err := url.Parse(a.NATS)
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "loadgen agent: unexpected arguments %q; the run's settings come from the controller\n", fs.Args())
		return 2
	case a.NATS == "" || err != nil || u.Host == "":
		fmt.Fprintf(stderr, "loadgen agent: --nats %q: want the NATS server URL, e.g. --nats nats://127.0.0.1:4222\n", a.NATS)
		return 2
	case a.ID != "" && sanitize(a.ID) != a.ID:
		fmt.Fprintf(stderr, "loadgen agent: --id %q: use letters, digits, '-' and '_' only\n", a.ID)
		return 2
	case a.StartWait <= 0:
		fmt.Fprintf(stderr, "loadgen agent: --start-wait %v: want a positive duration\n", a.StartWait)
		return 2
	}
	if err := a.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "loadgen agent: %v\n", err)
		return 1
	}
	return 0
}

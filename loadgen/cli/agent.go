package cli

import (
	"context"
	"fmt"
	"net/url"

	"github.com/wsbench/wsbench/loadgen/shard/nats"
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

// agentCmd is `loadgen agent --nats URL`: an agent of loadgen/shard/nats
// serving runs until Ctrl-C. Exit 0 ok, 1 could not connect, 2 usage.
func agentCmd() *command {
	a := &nats.Agent{}
	fs := newFlags("loadgen agent")
	fs.StringVar(&a.NATS, "nats", "", "NATS server where the controller hands out runs (required), e.g. nats://127.0.0.1:4222")
	fs.StringVar(&a.ID, "id", "", "agent id, unique among agents (default host-pid-random)")
	fs.StringVar(&a.Reports, "reports", "", "also write this agent's own report of every run into this directory")
	fs.DurationVar(&a.StartWait, "start-wait", nats.DefaultStartWait, "give up a run when the start signal does not come this long after the ramp")
	c := &command{flags: fs, usage: agentUsage}
	c.run = func(ctx context.Context, args []string, io stdio) int {
		u, err := url.Parse(a.NATS)
		switch {
		case len(args) > 0:
			fmt.Fprintf(io.err, "loadgen agent: unexpected arguments %q; the run's settings come from the controller\n", args)
			return ExitUsage
		case a.NATS == "" || err != nil || u.Host == "":
			fmt.Fprintf(io.err, "loadgen agent: --nats %q: want the NATS server URL, e.g. --nats nats://127.0.0.1:4222\n", a.NATS)
			return ExitUsage
		case a.ID != "" && !nats.ValidID(a.ID):
			fmt.Fprintf(io.err, "loadgen agent: --id %q: use letters, digits, '-' and '_' only\n", a.ID)
			return ExitUsage
		case a.StartWait <= 0:
			fmt.Fprintf(io.err, "loadgen agent: --start-wait %v: want a positive duration\n", a.StartWait)
			return ExitUsage
		}
		a.Log = io.err
		if err := a.Serve(ctx); err != nil {
			fmt.Fprintf(io.err, "loadgen agent: %v\n", err)
			return 1
		}
		return ExitOK
	}
	return c
}

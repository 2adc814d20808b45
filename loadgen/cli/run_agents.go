package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/run"
	"github.com/wsbench/wsbench/loadgen/shard/nats"
)

// agentFlags are the run command's controller flags: when enabled, the run
// goes to agents (loadgen/shard/nats) instead of this process.
type agentFlags struct {
	Agents       int
	NATS         string
	URLs         []string
	SenderAgents int
	// Outcome is set by Run: the agents' clocks and reports.
	Outcome *nats.Outcome
}

// addAgentFlags adds --agents, --nats, --agent-urls and --sender-agents to fs.
func addAgentFlags(fs *pflag.FlagSet) *agentFlags {
	f := &agentFlags{}
	fs.IntVar(&f.Agents, "agents", 0, "run on this many agents (started with: loadgen agent --nats URL, on any machines) and merge their reports; needs --nats")
	fs.StringVar(&f.NATS, "nats", "", "NATS server where the agents wait (with --agents), e.g. nats://127.0.0.1:4222")
	fs.StringSliceVar(&f.URLs, "agent-urls", nil, "with --agents: agent i loads the i-th of these URLs (round robin) instead of --url, e.g. one server node each")
	fs.IntVar(&f.SenderAgents, "sender-agents", 0, "with --agents: put every sender on the first N agents (the others only receive); 0 = spread")
	return f
}

// Enabled reports whether the run goes to agents.
func (f *agentFlags) Enabled() bool { return f.Agents > 0 }

// Validate checks the flags against the run's configuration.
func (f *agentFlags) Validate(cfg run.Config) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", run.ErrUsage, fmt.Sprintf(format, a...))
	}
	if !f.Enabled() {
		if f.NATS != "" || len(f.URLs) > 0 || f.SenderAgents != 0 {
			return bad("--nats, --agent-urls and --sender-agents need --agents N")
		}
		return nil
	}
	if u, err := url.Parse(f.NATS); f.NATS == "" || err != nil || u.Host == "" {
		return bad("--agents needs --nats nats://HOST:PORT (the NATS server the agents wait on)")
	}
	if f.Agents > cfg.Clients {
		return bad("--agents %d: more agents than --clients %d", f.Agents, cfg.Clients)
	}
	if f.SenderAgents < 0 || f.SenderAgents > f.Agents {
		return bad("--sender-agents %d: want 0 (spread) up to --agents %d", f.SenderAgents, f.Agents)
	}
	for _, s := range f.URLs {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return bad("--agent-urls entry %q is not a WebSocket URL (ws://host:port/path)", s)
		}
	}
	return nil
}

// Run runs cfg on the agents and returns the merged report (also with
// run.ErrNoConnection); the clocks and per-agent reports are left in
// f.Outcome. progress receives the controller's and first agent's lines.
func (f *agentFlags) Run(ctx context.Context, cfg run.Config, progress io.Writer) (*report.Report, error) {
	if err := f.Validate(cfg); err != nil {
		return nil, err
	}
	c := &nats.Controller{NATS: f.NATS, Agents: f.Agents, URLs: f.URLs, SenderAgents: f.SenderAgents, Log: progress}
	out, err := c.Run(ctx, cfg)
	f.Outcome = out
	if out == nil {
		return nil, err
	}
	return out.Report, err
}

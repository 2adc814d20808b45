package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsbench/wsbench/harness/target"
)

// Senders per part: a fixed share of the clients publish, so that the
// rate, not the client count, sets the broadcast load.
const (
	scaleSenders = 20
	crossSenders = 10
	bigSenders   = 30
)

// Run runs the parts of cfg that are not skipped, writing every report,
// node and agent log and summary.md into cfg.Out; progress goes to log,
// the summary also to out. A loadgen run that exits non-zero is noted and
// the next part runs (its report says why); a node that does not start
// ends the run.
func Run(ctx context.Context, cfg Config, out, log io.Writer) error {
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	bins, err := os.MkdirTemp("", "bench-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bins)
	if err := build(ctx, &cfg, bins, log); err != nil {
		return err
	}
	r := &runner{cfg: cfg, log: log}
	defer r.stopAll()
	for _, part := range []struct {
		name string
		run  func(context.Context) error
	}{{Scale, r.scale}, {Cross, r.cross}, {Big, r.big}} {
		if !cfg.runs(part.name) {
			continue
		}
		err := part.run(ctx)
		r.stopAll()
		if err != nil {
			return fmt.Errorf("%s: %w", part.name, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	f, err := os.Create(filepath.Join(cfg.Out, "summary.md"))
	if err != nil {
		return err
	}
	err = WriteSummary(io.MultiWriter(f, out), cfg.Out)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	fmt.Fprintf(log, "bench-cluster: results in %s\n", cfg.Out)
	return err
}

// build fills in the server and loadgen binaries that cfg does not name,
// building them into dir.
func build(ctx context.Context, cfg *Config, dir string, log io.Writer) error {
	var pkgs []string
	if cfg.ServerBin == "" {
		pkgs, cfg.ServerBin = append(pkgs, "./server"), filepath.Join(dir, "server")
	}
	if cfg.LoadgenBin == "" {
		pkgs, cfg.LoadgenBin = append(pkgs, "./loadgen"), filepath.Join(dir, "loadgen")
	}
	if len(pkgs) == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", strings.Join(pkgs, " "), err)
	}
	return nil
}

// runner holds the processes of the part that is running.
type runner struct {
	cfg    Config
	log    io.Writer
	nodes  []*target.Server
	agents []*exec.Cmd
}

// node starts a server node listening on addr and waits for /healthz.
func (r *runner) node(ctx context.Context, logName, addr string, args ...string) error {
	spec := target.Ours(logName, r.cfg.ServerBin, filepath.Join(r.cfg.Out, logName+".log"), append([]string{"--shutdown-grace", "2s"}, args...)...)
	spec.Addr = addr
	srv, err := target.Start(ctx, spec)
	if err != nil {
		return err
	}
	r.nodes = append(r.nodes, srv)
	return nil
}

// sharedNodes starts k nodes sharing addr (SO_REUSEPORT), NATS embedded in node 1
// on a port of its own, and returns the NATS URL.
func (r *runner) sharedNodes(ctx context.Context, k int, addr, suffix string) (string, error) {
	natsAddr, err := target.FreeAddr()
	if err != nil {
		return "", err
	}
	maxc := strconv.Itoa(MaxConnsPerNode)
	natsURL := "nats://" + natsAddr
	if err := r.node(ctx, "node1-"+suffix, addr, "--reuse-port", "--nats-embed", natsAddr, "--max-conns", maxc); err != nil {
		return "", err
	}
	for i := 2; i <= k; i++ {
		if err := r.node(ctx, fmt.Sprintf("node%d-%s", i, suffix), addr, "--reuse-port", "--cluster", natsURL, "--max-conns", maxc); err != nil {
			return "", err
		}
	}
	return natsURL, nil
}

// startAgents starts n loadgen agents on natsURL, writing their reports
// into Out/dir and their output into Out/agentI-dir.log.
func (r *runner) startAgents(n int, natsURL, dir string) error {
	reports := filepath.Join(r.cfg.Out, dir)
	if err := os.MkdirAll(reports, 0o755); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		logf, err := os.Create(filepath.Join(r.cfg.Out, fmt.Sprintf("agent%d-%s.log", i, dir)))
		if err != nil {
			return err
		}
		cmd := exec.Command(r.cfg.LoadgenBin, "agent", "--nats", natsURL, "--id", fmt.Sprintf("agent%d", i), "--reports", reports)
		cmd.Stdout, cmd.Stderr = logf, logf
		err = cmd.Start()
		logf.Close() // the child has its own descriptor
		if err != nil {
			return fmt.Errorf("start agent %d: %w", i, err)
		}
		r.agents = append(r.agents, cmd)
	}
	return nil
}

// loadgen runs the loadgen with args. A non-zero exit is reported and not
// an error: the report it wrote says what went wrong, and the summary
// shows it.
func (r *runner) loadgen(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, r.cfg.LoadgenBin, args...)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && ctx.Err() == nil {
		fmt.Fprintf(r.log, "bench-cluster: loadgen exit %d (see report)\n", exit.ExitCode())
		return nil
	}
	return err
}

// common are the loadgen flags of the scale and cross parts.
func (r *runner) common() []string {
	return []string{"--duration", r.cfg.Duration.String(), "--warmup", "2s", "--drain", "3s", "--size", "64", "--max-send-lag", "50ms", "-q"}
}

func (r *runner) out(name string) string { return filepath.Join(r.cfg.Out, name) }

// scale measures the same load against 1, 2 and 3 nodes on one port, and
// the nodes' CPU seconds (Out/scale-K.cpu).
func (r *runner) scale(ctx context.Context) error {
	for k := 1; k <= 3; k++ {
		addr, err := target.FreeAddr()
		if err != nil {
			return err
		}
		if k == 1 {
			err = r.node(ctx, "node1-1", addr, "--max-conns", strconv.Itoa(MaxConnsPerNode))
		} else {
			_, err = r.sharedNodes(ctx, k, addr, strconv.Itoa(k))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(r.log, "bench-cluster: scale %d node(s): %d clients, %g broadcasts/s\n", k, r.cfg.ScaleClients, r.cfg.ScaleRate)
		args := append([]string{"--url", "ws://" + addr + "/scale", "--clients", strconv.Itoa(r.cfg.ScaleClients),
			"--senders", strconv.Itoa(scaleSenders), "--rate", fmtRate(r.cfg.ScaleRate), "--ramp", "2000"}, r.common()...)
		if err := r.loadgen(ctx, append(args, "--out", r.out(fmt.Sprintf("scale-%d.json", k)))...); err != nil {
			return err
		}
		var cpu float64
		for _, n := range r.nodes {
			if u, err := n.Usage(); err == nil {
				cpu += u.CPUSeconds
			}
		}
		if err := os.WriteFile(r.out(fmt.Sprintf("scale-%d.cpu", k)), fmt.Appendf(nil, "%.1f", cpu), 0o644); err != nil {
			return err
		}
		r.stopAll()
	}
	return nil
}

// cross runs one load over two nodes on their own ports: agent 1 sends and
// receives on node A, agent 2 only receives on node B, so every message it
// gets has crossed NATS.
func (r *runner) cross(ctx context.Context) error {
	pa, err := target.FreeAddr()
	if err != nil {
		return err
	}
	pb, err := target.FreeAddr()
	if err != nil {
		return err
	}
	natsAddr, err := target.FreeAddr()
	if err != nil {
		return err
	}
	natsURL := "nats://" + natsAddr
	if err := r.node(ctx, "nodeA-cross", pa, "--nats-embed", natsAddr); err != nil {
		return err
	}
	if err := r.node(ctx, "nodeB-cross", pb, "--cluster", natsURL); err != nil {
		return err
	}
	if err := r.startAgents(2, natsURL, "cross"); err != nil {
		return err
	}
	fmt.Fprintf(r.log, "bench-cluster: cross-node latency: %d clients, %g broadcasts/s, senders on node A\n", r.cfg.CrossClients, r.cfg.CrossRate)
	args := append([]string{"--agents", "2", "--nats", natsURL, "--url", "ws://" + pa + "/cross",
		"--agent-urls", "ws://" + pa + "/cross,ws://" + pb + "/cross", "--sender-agents", "1",
		"--clients", strconv.Itoa(r.cfg.CrossClients), "--senders", strconv.Itoa(crossSenders),
		"--rate", fmtRate(r.cfg.CrossRate), "--ramp", "2000"}, r.common()...)
	return r.loadgen(ctx, append(args, "--out", r.out("cross.json"))...)
}

// big spreads BigClients over 3 nodes and 3 agents (source addresses
// 127.0.0.2-7, so no address runs out of ephemeral ports) and merges
// their reports.
func (r *runner) big(ctx context.Context) error {
	addr, err := target.FreeAddr()
	if err != nil {
		return err
	}
	natsURL, err := r.sharedNodes(ctx, 3, addr, "3")
	if err != nil {
		return err
	}
	if err := r.startAgents(3, natsURL, "big"); err != nil {
		return err
	}
	fmt.Fprintf(r.log, "bench-cluster: %d clients over 3 nodes and 3 agents, %g broadcasts/s\n", r.cfg.BigClients, r.cfg.BigRate)
	return r.loadgen(ctx, "--agents", "3", "--nats", natsURL, "--url", "ws://"+addr+"/big", "--source-ips", "127.0.0.2-127.0.0.7",
		"--clients", strconv.Itoa(r.cfg.BigClients), "--senders", strconv.Itoa(bigSenders), "--rate", fmtRate(r.cfg.BigRate),
		"--ramp", "5000", "--connect-timeout", "20s", "--duration", r.cfg.Duration.String(), "--warmup", "3s", "--drain", "10s",
		"--size", "64", "--max-send-lag", "200ms", "-q", "--out", r.out("big.json"))
}

// stopAll stops the agents (SIGTERM, then SIGKILL after 10 s) and the
// nodes (target.Server.Stop).
func (r *runner) stopAll() {
	for _, a := range r.agents {
		_ = a.Process.Signal(syscall.SIGTERM)
	}
	for _, a := range r.agents {
		done := make(chan struct{})
		go func() {
			_ = a.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = a.Process.Kill()
			<-done
		}
	}
	r.agents = nil
	for _, n := range r.nodes {
		n.Stop()
	}
	r.nodes = nil
}

func fmtRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

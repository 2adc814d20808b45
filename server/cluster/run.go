package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/wsbench/wsbench/server/chatserver"
)

// Options are the server command's cluster flags.
type Options struct {
	Cluster   string // --cluster nats://HOST:PORT: join this NATS bus
	Embed     string // --nats-embed HOST:PORT: start a NATS server in this node (joined when --cluster is empty)
	ReusePort bool   // --reuse-port: listen with SO_REUSEPORT so nodes share --addr
	Name      string // --node-name: NATS connection name; "" = hostname-pid
}

// Enabled reports whether any cluster flag was given.
func (o Options) Enabled() bool { return o.Cluster != "" || o.Embed != "" || o.ReusePort }

// Validate says what is wrong with the flags.
func (o Options) Validate() error {
	if o.Cluster != "" {
		if err := (Config{URL: o.Cluster}).Validate(); err != nil {
			return err
		}
	}
	if o.Embed != "" {
		if _, _, err := net.SplitHostPort(o.Embed); err != nil {
			return fmt.Errorf("--nats-embed %q: want host:port, e.g. 127.0.0.1:4222", o.Embed)
		}
	}
	return nil
}

// Run is chatserver.Run for a cluster node: it starts the embedded NATS
// server when asked, joins the bus, serves cfg.Addr (with SO_REUSEPORT
// when asked) until ctx is cancelled, then shuts the server down, leaves
// the bus and stops the embedded NATS server, in that order. ready, if not
// nil, is called with the bound address. status, if not nil, receives the
// node (for /healthz and /metrics wiring and tests).
func Run(ctx context.Context, cfg chatserver.Config, o Options, logf func(string, ...any), ready func(net.Addr), status func(*Node)) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	srv, err := chatserver.New(cfg, logf)
	if err != nil {
		return err
	}
	var bus *NATS
	url := o.Cluster
	if o.Embed != "" {
		if bus, err = StartNATS(o.Embed, nil); err != nil {
			return err
		}
		defer bus.Shutdown()
		logf("embedded NATS listening on %s (other nodes: --cluster %s)", bus.Addr(), bus.ClientURL())
		if url == "" {
			url = bus.ClientURL()
		}
	}
	var node *Node
	if url != "" {
		name := o.Name
		if name == "" {
			host, _ := os.Hostname()
			name = fmt.Sprintf("%s-%d", host, os.Getpid())
		}
		if node, err = Join(Config{URL: url, Name: name}, srv, logf); err != nil {
			return err
		}
		defer node.Close()
		srv.SetFanout(node)
		srv.AddHealthLine(func() string { return node.Status().Health() })
		if err := srv.RegisterCollector(node.Collector()); err != nil {
			return fmt.Errorf("cluster metrics: %w", err)
		}
		if status != nil {
			status(node)
		}
	}
	var ln net.Listener
	if o.ReusePort {
		ln, err = ListenReusePort(cfg.Addr)
	} else {
		ln, err = net.Listen("tcp", cfg.Addr)
	}
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		_ = srv.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	serr := srv.Shutdown(context.Background())
	return errors.Join(serr, <-errc)
}

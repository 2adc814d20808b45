// Command server is the wsbench reference WebSocket chat-room server: every
// message is relayed to every connection of the room named by the URL path.
// See server/README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/cluster"
)

func main() { os.Exit(run(os.Args[1:])) }

// defaultGCPercent is lower than Go's 100 because a chat server's live heap
// is mostly long-lived per-connection state, and the runtime keeps RSS near
// (1 + GOGC/100) × live heap: at 50 an idle connection costs ~15 % less RSS
// (server/README.md, "Idle connection cost"). The broadcast path
// hardly allocates, so the extra collections cost CPU only on handshakes.
const defaultGCPercent = 50

func run(args []string) int {
	cfg := chatserver.DefaultConfig()
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.DurationVar(&cfg.PingInterval, "ping-interval", cfg.PingInterval, "server ping period (0 disables)")
	fs.DurationVar(&cfg.PongTimeout, "pong-timeout", cfg.PongTimeout, "close a peer that sends nothing for this long (0 disables)")
	fs.Int64Var(&cfg.MaxMessage, "max-message", cfg.MaxMessage, "largest message in bytes, fragments included (bigger: close 1009)")
	fs.IntVar(&cfg.MaxConns, "max-conns", cfg.MaxConns, "open WebSocket connections; more are refused with 503 + Retry-After")
	fs.IntVar(&cfg.MaxPending, "max-pending", cfg.MaxPending, "TCP connections not yet upgraded (page, metrics, handshakes); a newcomer over the limit closes the one that has waited longest for its request (slowloris), and is closed itself only when every held one is being served")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", cfg.MaxConnsPerIP, "open WebSocket connections per client address (with --trust-proxy, the forwarded one); more get 429 + Retry-After (0: no limit)")
	fs.Float64Var(&cfg.MaxRate, "max-rate", cfg.MaxRate, "data messages per second one connection may send, with a burst of one second's worth; faster: close 1008 (0: no limit)")
	fs.BoolVar(&cfg.InlineWrite, "inline-write", cfg.InlineWrite, "a frame for a connection with nothing queued is written at once by the publisher with one non-blocking write (no goroutine, no timer); what the kernel does not take goes to the writer goroutine; false: always through the writer")
	fs.DurationVar(&cfg.InlineAfter, "inline-after", cfg.InlineAfter, "with --inline-write, frames are written inline only while the server is not busy publishing: no other fan-out in progress, and the idle gap since the last is at least this long and at least as long as the last inline fan-out took; otherwise the writer goroutines batch them (0: inline whenever a connection is idle)")
	fs.DurationVar(&cfg.WriteDelay, "write-delay", cfg.WriteDelay, "coalescing window: a frame that comes within this long of the connection's previous write waits for the rest of the window and goes with the frames after it in one writev (fewer system calls at high per-connection rates, at most this much added latency); 0: never wait")
	fs.BoolVar(&cfg.ParkIdle, "park-idle", cfg.ParkIdle, "idle connections wait in an epoll set without a reader goroutine (Linux; less memory per connection); false: one reader goroutine each")
	fs.IntVar(&cfg.SocketBuffer, "socket-buffer", cfg.SocketBuffer, "kernel send buffer (SO_SNDBUF) per connection in bytes, bounding what a non-reading client pins; 0 = kernel autotuning")
	fs.IntVar(&cfg.SendQueue, "send-queue", cfg.SendQueue, "frames queued per connection; overflow closes it with 1008 slow consumer")
	fs.StringSliceVar(&cfg.Origins, "origins", cfg.Origins, "allowed Origin values, comma separated (empty: all; http://host:* any port of host); others get 403")
	fs.DurationVar(&cfg.PushInterval, "push-interval", cfg.PushInterval, "push a text message to every client at this period (0: off)")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", cfg.ShutdownGrace, "on SIGINT/SIGTERM, wait this long for clients to answer 1001")
	fs.BoolVar(&cfg.Pprof, "pprof", cfg.Pprof, "serve /debug/pprof/")
	fs.BoolVar(&cfg.TrustProxy, "trust-proxy", cfg.TrustProxy, "log the client IP from X-Forwarded-For (only behind a proxy you run)")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", cfg.HandshakeTimeout, "time a client has to send its HTTP request headers, counted from its accept; trickling bytes does not extend it (slowloris guard)")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", cfg.WriteTimeout, "a write to a client taking longer closes it as a slow consumer")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", cfg.CloseTimeout, "wait this long for the client's close frame after ours")
	fs.BoolVar(&cfg.AppHeartbeat, "app-heartbeat", cfg.AppHeartbeat, `answer a text "__ping__" with "__pong__" to the sender only, never relayed`)
	fs.BoolVar(&cfg.Deflate, "deflate", cfg.Deflate, "accept permessage-deflate (RFC 7692) with no context takeover either way: a broadcast is compressed once for every receiver that agreed")
	gcPercent := fs.Int("gc-percent", defaultGCPercent, "garbage collector target (GOGC): heap growth over live data before a collection; lower = less memory per connection, more GC CPU on handshakes (10-1000; the GOGC environment variable applies unless this flag is given)")
	var co cluster.Options
	fs.StringVar(&co.Cluster, "cluster", "", "join the NATS bus at this URL (nats://HOST:PORT): rooms are shared with every node on it")
	fs.StringVar(&co.Embed, "nats-embed", "", "start an embedded NATS server on HOST:PORT for the other nodes' --cluster (joined by this node)")
	fs.BoolVar(&co.ReusePort, "reuse-port", false, "listen with SO_REUSEPORT so that several nodes can share --addr")
	fs.StringVar(&co.Name, "node-name", "", "this node's name on the bus (default host-pid)")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: server [flags]\n\nWebSocket chat-room server: a message is relayed to every connection of its room (the URL path).\n\nFlags:\n%s\nExamples:\n  go run ./server --addr 127.0.0.1:8181\n  go run ./server --ping-interval 10s --pong-timeout 25s --origins http://localhost:8181\n", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "server: %v\nRun 'server --help' to see the flags.\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "server: unexpected arguments %q; all settings are flags (see --help)\n", fs.Args())
		return 2
	}
	if *gcPercent < 10 || *gcPercent > 1000 {
		fmt.Fprintf(os.Stderr, "server: --gc-percent %d: want 10…1000 (50 is the default; 100 is Go's)\n", *gcPercent)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "server: %v\n", err)
		return 2
	}
	if err := co.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "server: %v\n", err)
		return 2
	}
	if fs.Changed("gc-percent") || os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	ready := func(a net.Addr) { logger.Printf("listening on %s", a) }
	var err error
	if co.Enabled() {
		err = cluster.Run(ctx, cfg, co, logger.Printf, ready, nil)
	} else {
		err = chatserver.Run(ctx, cfg, logger.Printf, ready)
	}
	if err != nil {
		logger.Printf("server: %v", err)
		return 1
	}
	logger.Printf("shut down")
	return 0
}

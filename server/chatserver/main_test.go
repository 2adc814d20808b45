package chatserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// serverProcessEnv makes the test binary run a plain server instead of the
// tests, so BenchmarkIdleConnections can measure a server in a process of
// its own.
const serverProcessEnv = "WSBENCH_CHATSERVER_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(serverProcessEnv) != "" {
		os.Exit(runServerProcess())
	}
	os.Exit(m.Run())
}

// runServerProcess serves on 127.0.0.1:0 with the default configuration
// (max-conns raised), prints "listening ADDR" and runs until SIGTERM.
func runServerProcess() int {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.MaxConns = 15000
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := Run(ctx, cfg, nil, func(a net.Addr) { fmt.Printf("listening %s\n", a) })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

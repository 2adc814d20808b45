package chatserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serverProcessEnv makes the test binary run a plain server instead of the
// tests, so BenchmarkIdleConnections can measure a server in a process of
// its own.
const serverProcessEnv = "WSBENCH_CHATSERVER_PROCESS"

// parkIdleEnv sets Config.ParkIdle of that server ("true" or "false").
const parkIdleEnv = "WSBENCH_CHATSERVER_PARK_IDLE"

func TestMain(m *testing.M) {
	if os.Getenv(serverProcessEnv) != "" {
		os.Exit(runServerProcess())
	}
	code := m.Run()
	if code == 0 && leakedGoroutines() != "" {
		fmt.Fprintf(os.Stderr, "server goroutines left after the tests:\n%s\n", leakedGoroutines())
		code = 1
	}
	os.Exit(code)
}

// leakedGoroutines returns the stacks of goroutines still running server
// code, after giving them a few seconds to end.
func leakedGoroutines() string {
	var left string
	for range 100 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		left = ""
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if strings.Contains(g, "chatserver.(*") && !strings.Contains(g, "leakedGoroutines") {
				left += g + "\n\n"
			}
		}
		if left == "" {
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
	return left
}

// runServerProcess serves on 127.0.0.1:0 with the default configuration
// (max-conns raised), prints "listening ADDR" and runs until SIGTERM.
func runServerProcess() int {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.MaxConns = 15000
	cfg.ParkIdle = os.Getenv(parkIdleEnv) != "false"
	cfg.Pprof = true // BenchmarkIdleConnections forces a GC through /debug/pprof/heap?gc=1
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := Run(ctx, cfg, nil, func(a net.Addr) { fmt.Printf("listening %s\n", a) })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

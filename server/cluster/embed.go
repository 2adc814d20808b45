package cluster

import (
	"fmt"
	"net"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// EmbedMaxPayload is the largest NATS message the embedded server accepts:
// 16 MiB plus the bus header, so that any message the loadgen can send
// (--size up to 16 MiB) fits. An external NATS server defaults to 1 MiB
// (max_payload); raise it there for larger --max-message.
const EmbedMaxPayload = 16<<20 + MessageHeaderLen

// NATS is an embedded NATS server (the server command's --nats-embed).
// Shutdown is idempotent and safe for concurrent use.
type NATS struct {
	srv *natsserver.Server
}

// StartNATS starts a NATS server listening on addr ("127.0.0.1:4222"; port
// 0 picks one) and returns once it accepts clients. logf receives its
// notices and errors; nil discards them.
func StartNATS(addr string, logf func(string, ...any)) (*NATS, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--nats-embed %q: want host:port, e.g. 127.0.0.1:4222: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("--nats-embed %q: port must be 0-65535", addr)
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	if host == "" {
		host = "0.0.0.0"
	}
	opts := &natsserver.Options{
		ServerName:            "wsbench-embedded",
		Host:                  host,
		Port:                  port,
		NoSigs:                true,
		NoLog:                 logf == nil,
		MaxPayload:            EmbedMaxPayload,
		MaxPending:            256 << 20, // per-client outbound buffer before NATS cuts a slow subscriber
		WriteDeadline:         10 * time.Second,
		DisableShortFirstPing: true,
	}
	srv, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	if logf != nil {
		srv.SetLoggerV2(natsLogger{logf}, false, false, false)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded NATS on %s did not start within 10s (port in use?)", addr)
	}
	return &NATS{srv: srv}, nil
}

// ClientURL returns the nats:// URL that nodes pass to --cluster.
func (n *NATS) ClientURL() string { return n.srv.ClientURL() }

// Addr returns the address the server listens on.
func (n *NATS) Addr() net.Addr { return n.srv.Addr() }

// Shutdown stops the server and waits until it has stopped.
func (n *NATS) Shutdown() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

// natsLogger adapts logf to the NATS server's logger.
type natsLogger struct{ logf func(string, ...any) }

func (l natsLogger) Noticef(format string, v ...any) { l.logf("nats: "+format, v...) }
func (l natsLogger) Warnf(format string, v ...any)   { l.logf("nats warning: "+format, v...) }
func (l natsLogger) Fatalf(format string, v ...any)  { l.logf("nats fatal: "+format, v...) }
func (l natsLogger) Errorf(format string, v ...any)  { l.logf("nats error: "+format, v...) }
func (l natsLogger) Debugf(format string, v ...any)  {}
func (l natsLogger) Tracef(format string, v ...any)  {}

package chatserver

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults used by DefaultConfig and documented in the command's --help.
const (
	DefaultAddr             = ":8181"
	DefaultPingInterval     = 25 * time.Second
	DefaultPongTimeout      = 60 * time.Second
	DefaultMaxMessage       = 64 << 10
	DefaultMaxConns         = 10000
	DefaultSendQueue        = 256
	DefaultShutdownGrace    = 5 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultCloseTimeout     = 3 * time.Second
	DefaultMaxPending       = 1024
	DefaultSocketBuffer     = 64 << 10
	// DefaultInlineAfter and DefaultWriteDelay, measured at 1,000 clients
	// in one room, server alone on one core (server/README.md, "Sending"):
	// inline writes save CPU at light load but keep one system call per
	// delivery when broadcasts follow each other closely, where the writer
	// goroutines batch; so a fan-out goes inline only when the idle gap
	// before it is at least 5 ms and at least as long as the last inline
	// fan-out took (20 ms alone cost 20 % more CPU at 50 broadcasts/s; 5 ms
	// alone a worse p99 at 150/s). A waiting window (--write-delay) saved
	// no CPU that repeated at 2–10 ms and put p50 at 15–19 ms at 20 ms, so
	// by default nothing waits.
	DefaultInlineAfter = 5 * time.Millisecond
	DefaultWriteDelay  = 0
)

// Config holds every setting of a Server; each field is one command-line
// flag. The zero value is not useful: start from DefaultConfig.
type Config struct {
	Addr             string        // listen address (ListenAndServe / Run)
	PingInterval     time.Duration // server pings every peer at this period; 0 disables
	PongTimeout      time.Duration // a peer that sends nothing for this long is dropped; 0 disables
	MaxMessage       int64         // largest message accepted, in bytes (also across fragments)
	MaxConns         int           // open WebSocket connections; more are refused with 503
	MaxConnsPerIP    int           // open WebSocket connections per client address; more get 429; 0 = no limit
	MaxPending       int           // TCP connections not (yet) upgraded: page, metrics, handshakes in progress; a newcomer over it closes the longest waiting (pending.go)
	SendQueue        int           // frames queued per connection before it is closed as slow (1008)
	Origins          []string      // allowed Origin header values; empty allows all, "*" too, "http://host:*" any port of host
	PushInterval     time.Duration // server pushes a text message to every client at this period; 0 = off
	ShutdownGrace    time.Duration // how long Shutdown waits for clients to answer 1001
	Pprof            bool          // serve /debug/pprof/
	TrustProxy       bool          // log the client IP from X-Forwarded-For
	HandshakeTimeout time.Duration // time allowed to send the HTTP request headers, from the accept
	WriteTimeout     time.Duration // a write that takes longer closes the receiver as slow
	CloseTimeout     time.Duration // how long to wait for the peer's close frame after ours
	AppHeartbeat     bool          // answer a text "__ping__" with "__pong__" to the sender only
	MaxRate          float64       // data messages per second one connection may send (burst: one second's worth); more → 1008; 0 = no limit
	ParkIdle         bool          // idle connections wait in an epoll set without a reader goroutine (Linux)
	InlineWrite      bool          // an idle connection's frame is written by the publisher with one non-blocking write (inline.go)
	InlineAfter      time.Duration // frames are written inline only when no other fan-out is in progress and the idle gap since the last is at least this long and at least as long as the last inline fan-out took; else the writers batch them
	WriteDelay       time.Duration // coalescing window: a frame within this long of the connection's previous write waits and goes with the others in one writev; 0 = never wait
	SocketBuffer     int           // SO_SNDBUF of each upgraded connection, bytes; 0 = kernel autotuning (up to tcp_wmem max, MiBs per non-reader)
	Deflate          bool          // accept permessage-deflate (RFC 7692) offers, with no context takeover either way (deflate.go)
}

// DefaultConfig returns the configuration the server command starts from.
func DefaultConfig() Config {
	return Config{
		Addr:             DefaultAddr,
		PingInterval:     DefaultPingInterval,
		PongTimeout:      DefaultPongTimeout,
		MaxMessage:       DefaultMaxMessage,
		MaxConns:         DefaultMaxConns,
		MaxPending:       DefaultMaxPending,
		SendQueue:        DefaultSendQueue,
		ShutdownGrace:    DefaultShutdownGrace,
		HandshakeTimeout: DefaultHandshakeTimeout,
		WriteTimeout:     DefaultWriteTimeout,
		CloseTimeout:     DefaultCloseTimeout,
		AppHeartbeat:     true,
		SocketBuffer:     DefaultSocketBuffer,
		ParkIdle:         true,
		InlineWrite:      true,
		WriteDelay:       DefaultWriteDelay,
		InlineAfter:      DefaultInlineAfter,
	}
}

// Validate reports the first setting that cannot work, saying what to do.
func (c Config) Validate() error {
	var errs []error
	neg := func(name string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("--%s %v is negative; use 0 to disable or a positive duration", name, d))
		}
	}
	pos := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("--%s %v must be a positive duration such as 5s", name, d))
		}
	}
	neg("ping-interval", c.PingInterval)
	neg("pong-timeout", c.PongTimeout)
	neg("push-interval", c.PushInterval)
	neg("shutdown-grace", c.ShutdownGrace)
	neg("write-delay", c.WriteDelay)
	neg("inline-after", c.InlineAfter)
	if c.WriteDelay >= c.WriteTimeout && c.WriteTimeout > 0 {
		errs = append(errs, fmt.Errorf("--write-delay %v must be well below --write-timeout %v (a few milliseconds; 0 disables coalescing)", c.WriteDelay, c.WriteTimeout))
	}
	pos("handshake-timeout", c.HandshakeTimeout)
	pos("write-timeout", c.WriteTimeout)
	pos("close-timeout", c.CloseTimeout)
	if c.PingInterval > 0 && c.PongTimeout > 0 && c.PongTimeout <= c.PingInterval {
		errs = append(errs, fmt.Errorf("--pong-timeout %v must be longer than --ping-interval %v, or peers that only answer pings get dropped", c.PongTimeout, c.PingInterval))
	}
	if c.MaxMessage < 1 {
		errs = append(errs, fmt.Errorf("--max-message %d must be at least 1 byte", c.MaxMessage))
	}
	if c.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("--max-conns %d must be at least 1", c.MaxConns))
	}
	if c.MaxPending < 1 {
		errs = append(errs, fmt.Errorf("--max-pending %d must be at least 1", c.MaxPending))
	}
	if c.MaxConnsPerIP < 0 {
		errs = append(errs, fmt.Errorf("--max-conns-per-ip %d must be 0 (no limit) or a count, e.g. 50", c.MaxConnsPerIP))
	}
	if c.MaxRate < 0 {
		errs = append(errs, fmt.Errorf("--max-rate %g must be 0 (no limit) or messages per second, e.g. 50", c.MaxRate))
	}
	if c.SocketBuffer < 0 {
		errs = append(errs, fmt.Errorf("--socket-buffer %d must be 0 (kernel default) or a size in bytes, e.g. 131072", c.SocketBuffer))
	}
	if c.SendQueue < 1 {
		errs = append(errs, fmt.Errorf("--send-queue %d must be at least 1 frame", c.SendQueue))
	}
	for _, o := range c.Origins {
		if o != "*" && !strings.Contains(o, "://") {
			errs = append(errs, fmt.Errorf("--origins entry %q is not an origin; write it as scheme://host[:port] or scheme://host:* (any port), e.g. http://localhost:8181", o))
		}
	}
	return errors.Join(errs...)
}

package run

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/wsbench/wsbench/loadgen/payload"
)

// Defaults of the loadgen command.
const (
	DefaultClients        = 100
	DefaultRate           = 100
	DefaultSize           = 64
	DefaultDuration       = 10 * time.Second
	DefaultWarmup         = 2 * time.Second
	DefaultDrain          = 2 * time.Second
	DefaultRamp           = 1000
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxSendLag     = 10 * time.Millisecond
	// CloseWait bounds the closing handshake of the close phase.
	CloseWait = 2 * time.Second
	// MaxSize is the largest --size accepted.
	MaxSize = 16 << 20
	// MaxTrackerBytes bounds the receivers' sequence bitmaps (one bit per
	// measured broadcast per client).
	MaxTrackerBytes = 4 << 30
)

// Config is one run. Flags bind to these fields; see Validate for the rules.
type Config struct {
	URL            string
	Clients        int     // connections to open
	Senders        int     // how many of the clients publish; 0 = all
	NoSenders      bool    // publish nothing (a worker process owning no sender ids)
	Rate           float64 // broadcasts per second across all senders
	Size           int     // message size in bytes, ≥ payload.HeaderLen
	Duration       time.Duration
	Warmup         time.Duration
	Drain          time.Duration // wait for in-flight messages after the window
	Ramp           float64       // new connections per second; 0 = as fast as possible
	ConnectTimeout time.Duration // TCP connect + WebSocket handshake
	MaxSendLag     time.Duration // send lag beyond which the report is marked overloaded
	SourceIPs      []net.IP      // local addresses, round-robin; empty = kernel's choice
	// World: text and templated payloads, join scripts, rooms, handshake,
	// keepalive, TLS and compression for servers other than a binary relay.
	World
	// MaxDrops and MaxConnectFail bound the share of established
	// connections the server may drop, and of attempts that may fail,
	// before the run is invalid (fractions; the flags default to
	// report.DefaultMaxDrops and report.DefaultMaxConnectFail).
	MaxDrops       float64
	MaxConnectFail float64
	// ServerPID, if set, is the process id of the server (on this
	// machine): its CPU time over the measured window is reported per
	// delivery (report.Server).
	ServerPID int
	// UserClock takes receipt times with time.Now as each message is
	// parsed instead of the kernel's receive stamps (--rx-timestamps=false).
	UserClock bool

	// Progress receives a status line every second; nil = none.
	Progress io.Writer
	// Log receives warnings (fd or port limits, failed connections) as
	// they happen; nil = Progress.
	Log io.Writer
	// IntervalLog receives one JSON object per second; nil = none.
	IntervalLog io.Writer

	// Multi-process runs (set by the procs package): all processes share
	// the run id and timetable; this one owns global sender ids
	// SenderBase … SenderBase+Senders-1 of TotalSenders.
	RunID        uint64                                             // 0 = random
	SenderBase   int                                                // first global sender id here
	ClientBase   int                                                // global number of this process's first client (source IP rotation)
	TotalSenders int                                                // 0 = Senders (single process)
	Gate         func(established int) (start time.Time, err error) // after the ramp: when slot 0 is due; nil = shortly
}

// ErrUsage marks configuration errors (exit code 2).
var ErrUsage = errors.New("usage")

// senders returns the number of senders in this process.
func (c Config) senders() int {
	if c.NoSenders {
		return 0
	}
	if c.Senders == 0 {
		return c.Clients
	}
	return c.Senders
}

// totalSenders returns the number of senders in the whole run.
func (c Config) totalSenders() int {
	if c.TotalSenders == 0 {
		return c.senders()
	}
	return c.TotalSenders
}

// Validate returns an error wrapping ErrUsage that says what to change.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return bad("--url is required, e.g. --url ws://127.0.0.1:8181/")
	case err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "":
		return bad("--url %q is not a WebSocket URL; use ws://host:port/path", c.URL)
	case c.Clients < 1:
		return bad("--clients %d: need at least 1 connection", c.Clients)
	case c.Senders < 0 || c.Senders > c.Clients:
		return bad("--senders %d: want 0 (all clients) up to --clients %d", c.Senders, c.Clients)
	case !(c.Rate > 0) || c.Rate > 1e7:
		return bad("--rate %v: want broadcasts per second above 0 (e.g. --rate 100)", c.Rate)
	case c.Size < payload.HeaderLen && !c.World.text():
		return bad("--size %d: messages carry a %d-byte header; use --size %d or more", c.Size, payload.HeaderLen, payload.HeaderLen)
	case c.Size > MaxSize:
		return bad("--size %d: at most %d bytes", c.Size, MaxSize)
	case c.Duration <= 0:
		return bad("--duration %v: want a positive duration such as 10s", c.Duration)
	case c.Warmup < 0 || c.Drain < 0:
		return bad("--warmup %v / --drain %v: must not be negative", c.Warmup, c.Drain)
	case c.Ramp < 0:
		return bad("--ramp %v: want connections per second (0 = as fast as possible)", c.Ramp)
	case !(c.MaxDrops >= 0 && c.MaxDrops <= 1) || !(c.MaxConnectFail >= 0 && c.MaxConnectFail <= 1):
		return bad("--max-drops %g / --max-connect-fail %g: want fractions from 0 to 1, or percentages like 1%%", c.MaxDrops, c.MaxConnectFail)
	case c.ConnectTimeout < 0 || c.MaxSendLag < 0:
		return bad("--connect-timeout / --max-send-lag must not be negative")
	case c.TotalSenders != 0 && c.SenderBase+c.senders() > c.TotalSenders:
		return bad("sender ids %d+%d exceed the run's %d senders", c.SenderBase, c.senders(), c.TotalSenders)
	}
	if err := c.World.validate(c, bad); err != nil {
		return err
	}
	slots := c.Rate * c.Duration.Seconds()
	if slots < 1 {
		return bad("--rate %v × --duration %v schedules no broadcast in the measured window; raise one of them", c.Rate, c.Duration)
	}
	if bytes := slots / 8 * float64(c.Clients); bytes > MaxTrackerBytes {
		return bad("--clients %d × --rate %v × --duration %v needs %.1f GiB of sequence bitmaps (one bit per broadcast per client); shorten --duration or lower --rate",
			c.Clients, c.Rate, c.Duration, bytes/(1<<30))
	}
	return nil
}

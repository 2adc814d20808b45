package abuse

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Defaults of Config, documented in the command's --help.
const (
	DefaultConns         = 10000
	DefaultSlowConns     = 10000
	DefaultWindow        = 6 * time.Second
	DefaultCleanDuration = 5 * time.Second
	DefaultMaxRatio      = 2.0
	DefaultP99Floor      = 5 * time.Millisecond
	DefaultMaxRSS        = 1 << 30
	DefaultMaxCut        = 64 << 20
	DefaultPingRate      = 2000
	DefaultStormClients  = 5000
	DefaultPartialConns  = 5000
	DefaultSlowloris     = 10000
	DefaultNewcomerP99   = 100 * time.Millisecond
	DefaultWriteTimeout  = 10 * time.Second // our server's --write-timeout default
)

// Config is one abuse run. Start from DefaultConfig.
type Config struct {
	URL            string        // ws:// URL of the server; must be loopback
	ServerPID      int           // pid of the server process for RSS sampling; 0: unknown
	Scenarios      []string      // names to run, in order; empty: all
	Conns          int           // handshake-hold: TCP connections that never finish the handshake
	SlowConns      int           // slow-readers: upgraded connections that never read
	Window         time.Duration // how long time-boxed scenarios run (floods, churn, slow-room)
	CleanDuration  time.Duration // length of each clean probe run measured first
	MaxRatio       float64       // probe p99 under abuse may be at most this × the clean p99 …
	P99Floor       time.Duration // … or at most this (noise floor for sub-millisecond clean runs)
	MaxRSS         int64         // peak server VmRSS allowed during a scenario, bytes (needs ServerPID)
	MaxCut         int64         // the 1 GiB message must be cut before this many bytes were accepted
	PingRate       int           // ping-flood: pings per second per connection (0: as fast as possible)
	StormClients   int           // reconnect-storm: clients of the restarted in-process server
	PartialConns   int           // partial-messages: connections holding an unfinished 64 KiB frame
	SlowlorisConns int           // slowloris: stalled connections held and re-opened as the server closes them
	NewcomerMaxP99 time.Duration // slowloris: the newcomers' handshake p99 must stay under this
	HoldCommand    []string      // slowloris: argv of a process running HoldStalled ("abuse hold"); empty: in this process
	ServerCPU      int           // the CPU the server is pinned to, to tell its load from other processes'; -1: not pinned
	ProbeCPU       int           // the CPU this program (attacker and probe) is pinned to; -1: not pinned
	WriteTimeout   time.Duration // the server's --write-timeout: slow-readers waits this long (plus slack) for non-readers to be closed
	Probe          ProbeConfig   // the standard probe (its own room)
	RoomProbe      ProbeConfig   // the probe of the slow-room scenarios (slow clients join its room)
}

// DefaultConfig returns the configuration the command starts from.
func DefaultConfig() Config {
	return Config{
		Conns:          DefaultConns,
		SlowConns:      DefaultSlowConns,
		Window:         DefaultWindow,
		CleanDuration:  DefaultCleanDuration,
		MaxRatio:       DefaultMaxRatio,
		P99Floor:       DefaultP99Floor,
		MaxRSS:         DefaultMaxRSS,
		MaxCut:         DefaultMaxCut,
		PingRate:       DefaultPingRate,
		StormClients:   DefaultStormClients,
		PartialConns:   DefaultPartialConns,
		SlowlorisConns: DefaultSlowloris,
		NewcomerMaxP99: DefaultNewcomerP99,
		WriteTimeout:   DefaultWriteTimeout,
		ServerCPU:      -1,
		ProbeCPU:       -1,
		Probe:          ProbeConfig{Room: "/abuse-probe", Clients: 8, Senders: 4, Rate: 100, Size: 128},
		RoomProbe:      ProbeConfig{Room: "/abuse-room", Clients: 90, Senders: 6, Rate: 200, Size: 1024},
	}
}

// Validate reports every setting that cannot work, saying what to do.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("--url is required, e.g. --url ws://127.0.0.1:8181/ (or run scripts/abuse.sh, which starts a server)"))
	}
	known := ScenarioNames()
	for _, s := range c.Scenarios {
		if !slices.Contains(known, s) {
			errs = append(errs, fmt.Errorf("--scenarios: unknown %q; choose from %s", s, strings.Join(known, ",")))
		}
	}
	// One process may hold 20,000 descriptors: stay well under it.
	if c.Conns < 1 || c.Conns > 15000 {
		errs = append(errs, fmt.Errorf("--conns %d must be between 1 and 15000 (one process may hold 20,000 descriptors)", c.Conns))
	}
	if c.SlowConns < 1 || c.SlowConns > 15000 {
		errs = append(errs, fmt.Errorf("--slow-conns %d must be between 1 and 15000", c.SlowConns))
	}
	if c.Window < 500*time.Millisecond || c.Window > 10*time.Minute {
		errs = append(errs, fmt.Errorf("--window %v must be between 500ms and 10m", c.Window))
	}
	if c.CleanDuration < 500*time.Millisecond || c.CleanDuration > 10*time.Minute {
		errs = append(errs, fmt.Errorf("--clean %v must be between 500ms and 10m", c.CleanDuration))
	}
	if c.MaxRatio < 1 {
		errs = append(errs, fmt.Errorf("--max-ratio %v must be at least 1", c.MaxRatio))
	}
	if c.P99Floor < 0 {
		errs = append(errs, fmt.Errorf("--p99-floor %v must not be negative", c.P99Floor))
	}
	if c.MaxRSS < 1<<20 {
		errs = append(errs, fmt.Errorf("--max-rss %d bytes is below 1 MiB", c.MaxRSS))
	}
	if c.PingRate < 0 || (c.PingRate > 0 && c.PingRate < 100) {
		errs = append(errs, fmt.Errorf("--ping-rate %d must be 0 (as fast as possible) or at least 100 per second", c.PingRate))
	}
	if c.PartialConns < 1 || c.PartialConns > 15000 {
		errs = append(errs, fmt.Errorf("--partial-conns %d must be between 1 and 15000", c.PartialConns))
	}
	if c.SlowlorisConns < 1 || c.SlowlorisConns > 15000 {
		errs = append(errs, fmt.Errorf("--slowloris-conns %d must be between 1 and 15000 (one process may hold 20,000 descriptors)", c.SlowlorisConns))
	}
	if c.WriteTimeout <= 0 || c.WriteTimeout > 5*time.Minute {
		errs = append(errs, fmt.Errorf("--write-timeout %v must be the server's --write-timeout, between 1ms and 5m", c.WriteTimeout))
	}
	if c.NewcomerMaxP99 <= 0 {
		errs = append(errs, fmt.Errorf("--newcomer-max-p99 %v must be a positive duration such as 100ms", c.NewcomerMaxP99))
	}
	if c.StormClients < 1 || c.StormClients > 8000 {
		errs = append(errs, fmt.Errorf("--storm-clients %d must be between 1 and 8000 (clients and their server share this process)", c.StormClients))
	}
	if c.ServerPID < 0 {
		errs = append(errs, fmt.Errorf("--server-pid %d must be a process id (0: unknown)", c.ServerPID))
	}
	for _, p := range []ProbeConfig{c.Probe, c.RoomProbe} {
		if p.Clients < 2 || p.Senders < 1 || p.Senders > p.Clients || p.Rate <= 0 || p.Size < 16 || p.Size > 60000 {
			errs = append(errs, fmt.Errorf("probe %s: need clients ≥ 2, 1 ≤ senders ≤ clients, rate > 0, 16 ≤ size ≤ 60000", p.Room))
		}
	}
	return errors.Join(errs...)
}

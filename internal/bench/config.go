package bench

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// DefaultCapRepeat is how many capacity searches `make bench` runs per
// server: one search varies by ±20 % on a shared machine, three give a
// median and a range.
const DefaultCapRepeat = 3

// Server names accepted in Config.Servers.
const (
	Ours = "ours"
	Node = "node"
)

// Config says what one bench run measures. The zero value is not useful:
// start from Default or Quick.
type Config struct {
	Out     string   // results directory; "" = results/<date>-<host>
	Servers []string // Ours and/or Node, measured in this order

	// Matrix: every combination of Clients × Rates × Sizes, Repeat times.
	Clients  []int
	Rates    []float64 // broadcasts per second across all senders
	Sizes    []int     // payload bytes
	Senders  int       // publishing clients per run; 0 = all
	Duration time.Duration
	Warmup   time.Duration
	Repeat   int

	// Capacity search: at CapClients clients, double the rate from
	// CapStartRate until a step fails (p99 ≥ SLO, loss, or a connection
	// failure), then bisect until the bounds are within CapTolerance.
	SLO          time.Duration
	CapClients   int
	CapSize      int
	CapStartRate float64
	CapMaxSteps  int
	CapTolerance float64 // 0.15 = stop when fail/pass rates are within 15 %
	CapDuration  time.Duration
	CapWarmup    time.Duration
	// CapRepeat runs the whole search this many times per server
	// (servers alternating); the capacity is the median, reported with
	// its min and max.
	CapRepeat int

	// IdleConns idle connections are held open to measure server memory
	// per connection; 0 skips it.
	IdleConns int

	// CPU split: the server runs on ServerCPU and the loadgen on
	// LoadgenCPU (taskset), each Go process with GOMAXPROCS=1. NoPin
	// turns pinning off (for machines without taskset or with one core).
	ServerCPU  int
	LoadgenCPU int
	NoPin      bool

	// QuietWait, when above 0, delays each step until other processes use
	// under QuietBelow of both the server's and the loadgen's CPU (over a
	// 1 s sample), or until QuietWait has passed; the run proceeds either
	// way and records the load it met.
	QuietWait  time.Duration
	QuietBelow float64
	// Nice runs servers, loadgen and idle holder at this niceness
	// (negative = ahead of other processes; needs root). 0 leaves it.
	Nice int

	ServerArgs []string // extra flags for our server
	ServerBin  string   // prebuilt server binary; "" = go build ./server
	LoadgenBin string   // prebuilt loadgen binary; "" = go build ./loadgen
	NodeDir    string   // folder holding server.js; default scripts/node-ws
	Ramp       float64  // loadgen --ramp (connections per second); 0 = its default
	Pprof      bool     // profile our server at its capacity point
}

// Default is `make bench`: about 8 minutes on a 2-core machine. Our server
// gets --max-conns=16000 so that the idle-connection count is not at its
// default ceiling, and --pprof so that its goroutines can be counted when
// /metrics has no go_goroutines.
func Default() Config {
	return Config{
		Servers:      []string{Ours, Node},
		Clients:      []int{100, 1000},
		Rates:        []float64{10, 100},
		Sizes:        []int{64, 1024},
		Duration:     4 * time.Second,
		Warmup:       time.Second,
		SLO:          50 * time.Millisecond,
		CapClients:   1000,
		CapSize:      64,
		CapStartRate: 25,
		CapMaxSteps:  9,
		CapTolerance: 0.15,
		CapDuration:  5 * time.Second,
		CapWarmup:    time.Second,
		CapRepeat:    DefaultCapRepeat,
		IdleConns:    10000,
		ServerCPU:    1,
		LoadgenCPU:   0,
		Repeat:       2,
		Ramp:         5000,
		QuietBelow:   0.25,
		ServerArgs:   []string{"--max-conns=16000", "--pprof"},
		Pprof:        true,
	}
}

// Quick is `make bench-quick`: about 60 seconds.
func Quick() Config {
	c := Default()
	c.Clients = []int{100}
	c.Rates = []float64{100}
	c.Sizes = []int{64, 1024}
	c.Duration = 2 * time.Second
	c.Warmup = 500 * time.Millisecond
	c.CapClients = 200
	c.CapStartRate = 100
	c.CapMaxSteps = 3
	c.CapTolerance = 0.3
	c.CapDuration = 2 * time.Second
	c.CapWarmup = 500 * time.Millisecond
	c.CapRepeat = 2 // a range at least, within the quick budget
	c.IdleConns = 2000
	c.Repeat = 1
	c.Pprof = false
	return c
}

// Validate checks c and says what to do about a bad value.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Servers) == 0 {
		bad("--servers: give at least one of %s, %s", Ours, Node)
	}
	for _, s := range c.Servers {
		if s != Ours && s != Node {
			bad("--servers %q: want %s or %s", s, Ours, Node)
		}
	}
	for _, n := range c.Clients {
		if n < 1 || n > 15000 {
			bad("--clients %d: want 1…15000 (one loadgen process, 20k fd limit)", n)
		}
	}
	for _, r := range c.Rates {
		if r <= 0 {
			bad("--rates %g: want broadcasts per second above 0", r)
		}
	}
	for _, s := range c.Sizes {
		if s < 32 || s > 1<<20 {
			bad("--sizes %d: want 32 B … 1 MiB (the payload carries a 32-byte header)", s)
		}
	}
	if c.Senders < 0 {
		bad("--senders %d: want 0 (all clients) or more", c.Senders)
	}
	if c.Duration < 500*time.Millisecond || c.CapDuration < 500*time.Millisecond {
		bad("--duration/--cap-duration: want at least 500ms")
	}
	if c.Warmup < 0 || c.CapWarmup < 0 {
		bad("--warmup: want 0 or more")
	}
	if c.Repeat < 1 || c.Repeat > 20 {
		bad("--repeat %d: want 1…20", c.Repeat)
	}
	if c.SLO <= 0 {
		bad("--slo %v: want a positive p99 bound such as 50ms", c.SLO)
	}
	if c.CapMaxSteps < 0 {
		bad("--cap-steps %d: want 0 (skip the capacity search) or more", c.CapMaxSteps)
	}
	if c.CapMaxSteps > 0 && (c.CapClients < 1 || c.CapClients > 15000 || c.CapStartRate <= 0) {
		bad("--cap-clients %d / --cap-start-rate %g: want 1…15000 clients and a positive rate", c.CapClients, c.CapStartRate)
	}
	if c.CapRepeat < 1 || c.CapRepeat > 20 {
		bad("--cap-repeat %d: want 1…20 searches per server (3 gives a median and a range)", c.CapRepeat)
	}
	if c.CapTolerance <= 0 || c.CapTolerance >= 1 {
		bad("--cap-tolerance %g: want a fraction such as 0.15", c.CapTolerance)
	}
	if c.IdleConns < 0 || c.IdleConns > 15000 {
		bad("--idle-conns %d: want 0…15000 (20k fd limit per process)", c.IdleConns)
	}
	if !c.NoPin && (c.ServerCPU < 0 || c.LoadgenCPU < 0 || c.ServerCPU == c.LoadgenCPU) {
		bad("--server-cpu %d / --loadgen-cpu %d: want two different CPUs (or --no-pin)", c.ServerCPU, c.LoadgenCPU)
	}
	if c.QuietWait < 0 || c.QuietBelow <= 0 || c.QuietBelow > 1 {
		bad("--quiet-wait %v / --quiet-below %g: want a duration ≥ 0 and a fraction in (0, 1]", c.QuietWait, c.QuietBelow)
	}
	if c.Nice < -20 || c.Nice > 19 {
		bad("--nice %d: want -20…19", c.Nice)
	}
	if slices.Contains(c.ServerArgs, "--addr") {
		bad("--server-arg --addr: the bench chooses the address")
	}
	return errors.Join(errs...)
}

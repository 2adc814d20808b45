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
	Out string // results directory; "" = results/<date>-<host>
	// Servers are measured in this order: Ours, Node, a peer recipe
	// (Peers) or the name of one of Commands.
	Servers []string
	// Commands are servers started from a command line (--server
	// NAME='COMMAND'); each is measured even when Servers omits it.
	Commands []ServerCmd

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

	// Floor: a bare non-blocking write(2) of one FloorFrame-byte frame to
	// each of FloorSockets loopback sockets, at each of FloorRates writes
	// per second, on the server's CPU with the readers on the loadgen's
	// (see floor.go). FloorSockets 0 skips it.
	FloorSockets int
	FloorRates   []float64
	FloorFrame   int

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

// Default is `make bench`: about 25 minutes on a 2-core machine (six
// servers, three interleaved repeats of the matrix, three capacity
// searches each). Our server
// gets --max-conns=16000 so that the idle-connection count is not at its
// default ceiling, and --pprof so that its goroutines can be counted when
// /metrics has no go_goroutines.
func Default() Config {
	return Config{
		Servers:      []string{Ours, Node, "gorilla", "nbio", "gws", "python"},
		Clients:      []int{1000},        // 100 clients: add --clients 100,1000
		Rates:        []float64{25, 100}, // 1000 × 25/s: light load; × 100/s: heavy
		Sizes:        []int{64, 1024},
		Duration:     4 * time.Second,
		Warmup:       time.Second,
		SLO:          50 * time.Millisecond,
		CapClients:   1000,
		CapSize:      64,
		CapStartRate: 25,
		CapMaxSteps:  7,
		CapTolerance: 0.15,
		CapDuration:  5 * time.Second,
		CapWarmup:    time.Second,
		CapRepeat:    DefaultCapRepeat,
		IdleConns:    10000,
		FloorSockets: 1000,
		FloorRates:   []float64{25000, 100000},
		FloorFrame:   66, // a 64-byte payload's frame, as the matrix's 64 B cells
		ServerCPU:    1,
		LoadgenCPU:   0,
		Repeat:       3, // interleaved: the median of 3 is the figure
		Ramp:         5000,
		QuietBelow:   0.25,
		ServerArgs:   []string{"--max-conns=16000", "--pprof"},
		Pprof:        true,
	}
}

// Quick is `make bench-quick`: ours, Node and the Go peers at light and
// heavy load (1000 clients × 25/s and × 100/s), a short capacity search,
// memory per connection and the floor, in about three minutes. Python is
// left out: it cannot carry the heavy cell and would only add failures.
func Quick() Config {
	c := Default()
	c.Servers = []string{Ours, Node, "gorilla", "nbio", "gws"}
	c.Clients = []int{1000}
	c.Rates = []float64{25, 100}
	c.Sizes = []int{64}
	c.Duration = 2 * time.Second
	c.Warmup = 500 * time.Millisecond
	c.CapClients = 200
	c.CapStartRate = 100
	c.CapMaxSteps = 2
	c.CapTolerance = 0.3
	c.CapDuration = 2 * time.Second
	c.CapWarmup = 500 * time.Millisecond
	c.CapRepeat = 1 // five servers: one short search each keeps it quick
	c.IdleConns = 2000
	c.Repeat = 1
	c.Pprof = false
	return c
}

// Measured returns the servers a run measures, in order: Servers, then
// every Commands entry that Servers does not list.
func (c Config) Measured() []string {
	out := slices.Clone(c.Servers)
	for _, cmd := range c.Commands {
		if !slices.Contains(out, cmd.Name) {
			out = append(out, cmd.Name)
		}
	}
	return out
}

// Validate checks c and says what to do about a bad value.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Servers) == 0 && len(c.Commands) == 0 {
		bad("--servers: give at least one of %s", c.serverNames())
	}
	listed := map[string]bool{}
	for _, s := range c.Servers {
		if listed[s] {
			bad("--servers %q: listed twice", s)
		}
		listed[s] = true
		if _, ok := c.command(s); s != Ours && s != Node && !ok {
			bad("--servers %q: want one of %s, or describe it with --server %s='COMMAND with %s'", s, c.serverNames(), s, PortPlaceholder)
		}
	}
	named := map[string]bool{}
	for _, cmd := range c.Commands {
		if named[cmd.Name] {
			bad("--server %s: given twice", cmd.Name)
		}
		named[cmd.Name] = true
		if err := lookCommand(cmd.Command); err != nil {
			bad("--server %s: %v", cmd.Name, err)
		}
	}
	if c.FloorSockets < 0 || c.FloorSockets > 15000 {
		bad("--floor-sockets %d: want 0 (skip the floor) … 15000", c.FloorSockets)
	}
	if c.FloorSockets > 0 {
		for _, r := range c.FloorRates {
			if r < 1 || r > 1e7 {
				bad("--floor-rates %g: want writes per second in 1 … 10M", r)
			}
		}
		if len(c.FloorRates) == 0 {
			bad("--floor-rates: give at least one rate, or --floor-sockets 0 to skip the floor")
		}
		if c.FloorFrame < 2 || c.FloorFrame > 65536 {
			bad("--floor-frame %d: want 2 … 65536 bytes", c.FloorFrame)
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

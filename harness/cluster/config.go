package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Parts of the run, in order; Config.Skip names the ones to leave out.
const (
	Scale = "scale" // 1 vs 2 vs 3 nodes on one port
	Cross = "cross" // 2 nodes, 2 agents: latency with and without NATS
	Big   = "big"   // BigClients over 3 nodes and 3 agents
)

// Parts lists every part in the order of a run.
var Parts = []string{Scale, Cross, Big}

// Defaults of Config (those of the shell script it replaces).
const (
	DefaultDuration     = 10 * time.Second
	DefaultScaleClients = 1000
	DefaultScaleRate    = 50
	DefaultCrossClients = 1000
	DefaultCrossRate    = 20
	DefaultBigClients   = 51000
	DefaultBigRate      = 1
	// MaxConnsPerNode is each node's --max-conns in the scale and big
	// parts: the big run's 17,000 clients per node plus room, under the
	// 20,000 descriptors a default ulimit allows.
	MaxConnsPerNode = 19900
)

// Config is one bench-cluster run.
type Config struct {
	Out          string        // results directory
	Skip         []string      // parts to leave out (Scale, Cross, Big)
	Duration     time.Duration // measured time of every loadgen run
	ScaleClients int
	ScaleRate    float64 // broadcasts per second
	CrossClients int
	CrossRate    float64
	BigClients   int
	BigRate      float64
	ServerBin    string // prebuilt server binary (empty: go build ./server)
	LoadgenBin   string // prebuilt loadgen binary (empty: go build ./loadgen)
}

// Default returns the configuration make bench-cluster runs (Out is set by
// the caller, results/cluster-<time> by default).
func Default() Config {
	return Config{
		Duration:     DefaultDuration,
		ScaleClients: DefaultScaleClients, ScaleRate: DefaultScaleRate,
		CrossClients: DefaultCrossClients, CrossRate: DefaultCrossRate,
		BigClients: DefaultBigClients, BigRate: DefaultBigRate,
	}
}

// DefaultOut is the results directory of a run started at now.
func DefaultOut(now time.Time) string {
	return "results/cluster-" + now.UTC().Format("20060102T150405Z")
}

// runs reports whether part is not skipped.
func (c Config) runs(part string) bool { return !slices.Contains(c.Skip, part) }

// Validate reports settings that cannot work, saying what to do.
func (c Config) Validate() error {
	var errs []error
	if c.Out == "" {
		errs = append(errs, errors.New("--out is empty: give a results directory"))
	}
	for _, s := range c.Skip {
		if !slices.Contains(Parts, s) {
			errs = append(errs, fmt.Errorf("--skip %q: the parts are %s", s, strings.Join(Parts, ", ")))
		}
	}
	if c.Duration < time.Second {
		errs = append(errs, fmt.Errorf("--duration %v: want at least 1s", c.Duration))
	}
	for _, p := range []struct {
		part        string
		clients     int
		rate        float64
		least, most int
	}{
		{Scale, c.ScaleClients, c.ScaleRate, scaleSenders, MaxConnsPerNode},
		{Cross, c.CrossClients, c.CrossRate, crossSenders, MaxConnsPerNode},
		{Big, c.BigClients, c.BigRate, bigSenders, 3 * MaxConnsPerNode},
	} {
		if !c.runs(p.part) {
			continue
		}
		if p.clients < p.least || p.clients > p.most {
			errs = append(errs, fmt.Errorf("--%s-clients %d: want %d (its senders) to %d (each node takes at most %d)", p.part, p.clients, p.least, p.most, MaxConnsPerNode))
		}
		if p.rate <= 0 {
			errs = append(errs, fmt.Errorf("--%s-rate %g: want broadcasts per second > 0", p.part, p.rate))
		}
	}
	return errors.Join(errs...)
}

package nats

import (
	"github.com/wsbench/wsbench/loadgen/shard"
)

// Subjects of the protocol (see the package comment).
const (
	subjPrefix   = "wsbench.agent."
	subjDiscover = subjPrefix + "discover"
)

func subjClock(id string) string        { return subjPrefix + id + ".clock" }
func subjRun(id string) string          { return subjPrefix + id + ".run" }
func subjStart(id, token string) string { return subjPrefix + id + ".start." + token }
func subjAbort(id, token string) string { return subjPrefix + id + ".abort." + token }
func subjReady(token string) string     { return subjPrefix + "ctl." + token + ".ready" }
func subjResult(token string) string    { return subjPrefix + "ctl." + token + ".result" }

// Hello is an idle agent's answer to discover.
type Hello struct {
	ID   string `json:"id"`
	Host string `json:"host"`
}

// Job is the controller's request to run one share of a run.
type Job struct {
	Token string     `json:"token"` // names this run's subjects
	Spec  shard.Spec `json:"spec"`
}

// Ready tells the controller an agent has ramped and waits for Start.
type Ready struct {
	ID          string `json:"id"`
	Established int    `json:"established"`
}

// Start is when slot 0 of the timetable is due, in the receiving agent's
// clock (Unix ns); Abort ends the run without sending.
type Start struct {
	UnixNs int64 `json:"unix_ns"`
	Abort  bool  `json:"abort,omitempty"`
}

// Result is an agent's outcome: its id, then its report and the data for
// an exact merge (shard.Result's fields, inline).
type Result struct {
	ID string `json:"id"`
	shard.Result
}

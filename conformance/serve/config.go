package serve

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wsbench/wsbench/conformance/runner"
)

// Defaults for Config, chosen so that a client with a typical backoff (base
// 100 ms–1 s, cap a few seconds), a stable threshold of 10 s and a
// heartbeat that notices a dead link within 15 s (the chat page's
// defaults) finishes the session in about a minute.
const (
	DefaultAddr           = "127.0.0.1:9001"
	DefaultTimeout        = 5 * time.Minute
	DefaultIdle           = 3 * time.Second
	DefaultPingEvery      = time.Second
	DefaultAttempts       = 6
	DefaultMaxDelay       = 10 * time.Second
	DefaultRetryAfter     = 2 * time.Second
	DefaultHeartbeatBound = 20 * time.Second
	DefaultStable         = 11 * time.Second
	DefaultCloseWait      = 5 * time.Second
	DefaultQuiet          = 3 * time.Second
)

// Config is what the serve command takes from its flags. The zero value is
// not usable; start from DefaultConfig.
type Config struct {
	Addr    string        // listen address, host:port
	Timeout time.Duration // the whole run: waiting for a client included
	Run     string        // regexp over "ID title"; empty selects all
	List    bool          // print the catalogue and return

	Idle           time.Duration // phase 1 length
	PingEvery      time.Duration // the suite's ping period on live connections
	Attempts       int           // phase 2: attempts dropped in a row
	MaxDelay       time.Duration // longest wait for the client's next attempt
	RetryAfter     time.Duration // phase 3: whole seconds in Retry-After
	HeartbeatBound time.Duration // phase 4: the client must give up a frozen link by then
	Stable         time.Duration // phase 5: uptime that must reset the backoff
	CloseWait      time.Duration // phase 7: wait for the client's own close
	Quiet          time.Duration // after a close the client must stay away this long (at least)

	JUnit     string
	JSON      string
	ReportDir string

	// OnPhase, when set, is called as the session enters each phase
	// (tests use it to act like a user, e.g. close the client in "last").
	OnPhase func(agent, phase string)
	// Ready, when set, receives the bound address once the server listens.
	Ready func(addr net.Addr)
}

// DefaultConfig returns the command's defaults.
func DefaultConfig() Config {
	return Config{
		Addr: DefaultAddr, Timeout: DefaultTimeout, Idle: DefaultIdle, PingEvery: DefaultPingEvery,
		Attempts: DefaultAttempts, MaxDelay: DefaultMaxDelay, RetryAfter: DefaultRetryAfter,
		HeartbeatBound: DefaultHeartbeatBound, Stable: DefaultStable, CloseWait: DefaultCloseWait,
		Quiet: DefaultQuiet,
	}
}

// ErrUsage marks configuration errors (exit code 2); it is the runner's,
// so one check serves both commands.
var ErrUsage = runner.ErrUsage

// Validate reports every unusable setting, saying what to do.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q must be host:port such as 127.0.0.1:9001", c.Addr))
	}
	pos := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("--%s %v must be a positive duration", name, d))
		}
	}
	pos("timeout", c.Timeout)
	pos("idle", c.Idle)
	pos("ping-every", c.PingEvery)
	pos("max-delay", c.MaxDelay)
	pos("heartbeat-bound", c.HeartbeatBound)
	pos("stable", c.Stable)
	pos("close-wait", c.CloseWait)
	pos("quiet", c.Quiet)
	if c.Attempts < 3 || c.Attempts > 20 {
		errs = append(errs, fmt.Errorf("--attempts %d must be between 3 and 20 (growth and jitter need at least 3 delays)", c.Attempts))
	}
	if c.RetryAfter < time.Second || c.RetryAfter%time.Second != 0 || c.RetryAfter > time.Minute {
		errs = append(errs, fmt.Errorf("--retry-after %v must be whole seconds between 1s and 1m (the header carries seconds)", c.RetryAfter))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return nil
}

// Package backoff computes reconnect delays with "full jitter" exponential
// backoff: the n-th delay (n counting from 0) is drawn uniformly from
// [0, min(Cap, Base·2ⁿ)], and the attempt counter resets once a connection
// has stayed up for Stable. The chat page implements the same policy in
// JavaScript with the Default* values below.
//
// A Policy is not safe for concurrent use; each reconnecting client owns one.
package backoff

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Defaults shared with the chat page.
const (
	DefaultBase   = 500 * time.Millisecond
	DefaultCap    = 30 * time.Second
	DefaultStable = 10 * time.Second
)

// Config holds the policy's parameters.
type Config struct {
	Base   time.Duration // ceiling of the first delay
	Cap    time.Duration // largest ceiling
	Stable time.Duration // uptime after which the attempt counter resets
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Base: DefaultBase, Cap: DefaultCap, Stable: DefaultStable}
}

// Validate reports unusable parameters.
func (c Config) Validate() error {
	if c.Base <= 0 || c.Cap < c.Base || c.Stable < 0 {
		return fmt.Errorf("backoff: need 0 < base (%v) ≤ cap (%v) and stable (%v) ≥ 0", c.Base, c.Cap, c.Stable)
	}
	return nil
}

// Policy hands out successive delays.
type Policy struct {
	cfg     Config
	rnd     func() float64 // uniform in [0, 1)
	attempt int
}

// New returns a Policy drawing from rnd (uniform in [0,1)); nil uses
// math/rand/v2.
func New(cfg Config, rnd func() float64) *Policy {
	if rnd == nil {
		rnd = rand.Float64
	}
	return &Policy{cfg: cfg, rnd: rnd}
}

// Ceiling returns min(Cap, Base·2ⁿ), the largest n-th delay.
func (c Config) Ceiling(n int) time.Duration {
	d := c.Base
	for i := 0; i < n; i++ {
		if d >= c.Cap/2 {
			return c.Cap
		}
		d *= 2
	}
	if d > c.Cap {
		return c.Cap
	}
	return d
}

// Attempt is the number of delays handed out since the last reset.
func (p *Policy) Attempt() int { return p.attempt }

// Next returns the next delay and advances the attempt counter.
func (p *Policy) Next() time.Duration {
	ceil := p.cfg.Ceiling(p.attempt)
	p.attempt++
	return time.Duration(p.rnd() * float64(ceil+1))
}

// Connected tells the policy a connection ended after being up for uptime;
// an uptime of at least Stable resets the attempt counter.
func (p *Policy) Connected(uptime time.Duration) {
	if uptime >= p.cfg.Stable {
		p.attempt = 0
	}
}

// Reset sets the attempt counter back to 0.
func (p *Policy) Reset() { p.attempt = 0 }

package runner

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsbench/wsbench/conformance/suite"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := DefaultConfig()
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"http url", func(c *Config) { c.URL = "http://x/" }, "--url"},
		{"bad regexp", func(c *Config) { c.Run = "(" }, "--run"},
		{"pong below ping", func(c *Config) { c.PingInterval, c.PongTimeout = time.Second, time.Second }, "--pong-timeout"},
		{"negative ping", func(c *Config) { c.PingInterval = -1 }, "negative"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "--timeout"},
		{"huge max-conns", func(c *Config) { c.MaxConns = 5000 }, "--max-conns"},
		{"list needs no url", func(c *Config) { c.URL, c.List = "", true }, ""},
		{"unknown profile", func(c *Config) { c.Profile = "broadcast" }, "--profile"},
		{"echo profile", func(c *Config) { c.Profile = suite.ProfileEcho }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrUsage)):
				t.Fatalf("Validate = %v; want a usage error about %s", err, tc.want)
			}
		})
	}
}

func TestExecuteOrderAfterAndTimeout(t *testing.T) {
	t.Parallel()
	var others atomic.Int32
	mk := func(id string, d time.Duration, v suite.Verdict) suite.Case {
		return suite.Case{ID: id, Title: id, Run: func(ctx context.Context, env *suite.Env) suite.Result {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
			others.Add(1)
			return suite.Result{Verdict: v}
		}}
	}
	cases := []suite.Case{
		mk("A-01", 30*time.Millisecond, suite.OK),
		{ID: "Z-01", Title: "after", After: true, Run: func(context.Context, *suite.Env) suite.Result {
			if n := others.Load(); n != 3 {
				return suite.Failf("3 cases done", "%d", n)
			}
			return suite.Pass()
		}},
		mk("A-02", 0, suite.Failed),
		{ID: "S-01", Title: "serial", Serial: true, Run: func(context.Context, *suite.Env) suite.Result { others.Add(1); return suite.Pass() }},
		{ID: "P-01", Title: "panics", Run: func(context.Context, *suite.Env) suite.Result { panic("boom") }},
	}
	var out strings.Builder
	env := &suite.Env{CaseTimeout: time.Second}
	es := Execute(context.Background(), env, cases, 4, &out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, id := range []string{"A-01", "Z-01", "A-02", "S-01", "P-01"} {
		if !strings.HasPrefix(lines[i], id) {
			t.Fatalf("line %d = %q; want %s first (catalogue order)", i, lines[i], id)
		}
	}
	if es[1].Result.Verdict != suite.OK {
		t.Errorf("After case ran before the others: %+v", es[1].Result)
	}
	if es[2].Result.Verdict != suite.Failed || es[4].Result.Verdict != suite.Failed || !strings.Contains(es[4].Result.Observed, "panicked") {
		t.Errorf("results %+v / %+v", es[2].Result, es[4].Result)
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	cs := []suite.Case{{ID: "HS-01", Title: "valid upgrade"}, {ID: "CL-01", Title: "close"}}
	if got := Select(cs, "^CL-01$"); len(got) != 1 || got[0].ID != "CL-01" {
		t.Errorf("Select by id = %v", got)
	}
	if got := Select(cs, "upgrade"); len(got) != 1 || got[0].ID != "HS-01" {
		t.Errorf("Select by title = %v", got)
	}
}

// TestEchoProfileSkipsRoomCases: under --profile echo a case that needs
// several members of a room is SKIPPED, saying why, without running; a
// FAILED result with no section in its expectation gets the case's.
func TestEchoProfileSkipsRoomCases(t *testing.T) {
	t.Parallel()
	var ran atomic.Int32
	cases := []suite.Case{
		{ID: "X-01", Ref: "contracts: broadcast", Room: true, Run: func(context.Context, *suite.Env) suite.Result { ran.Add(1); return suite.Pass() }},
		{ID: "X-02", Ref: "RFC 6455 §5.1", Run: func(context.Context, *suite.Env) suite.Result { return suite.Fail("a close", "none") }},
	}
	cfg := DefaultConfig()
	cfg.Profile = suite.ProfileEcho
	env, err := cfg.Env(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	es := Execute(context.Background(), env, cases, 2, &out)
	if r := es[0].Result; r.Verdict != suite.Skipped || !strings.Contains(r.Detail, "--profile echo") || ran.Load() != 0 {
		t.Errorf("room case under echo = %v %q (ran %d times); want SKIPPED naming --profile echo, not run", r.Verdict, r.Detail, ran.Load())
	}
	if r := es[1].Result; r.Expected != "a close (RFC 6455 §5.1)" {
		t.Errorf("FAILED expectation = %q; want the case's section appended", r.Expected)
	}
}

package cluster

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Default()
	ok.Out = "results/x"
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"tiny scale only", func(c *Config) { c.Skip = []string{Cross, Big}; c.ScaleClients = 20; c.Duration = time.Second }, ""},
		{"unknown part", func(c *Config) { c.Skip = []string{"huge"} }, `--skip "huge"`},
		{"no out", func(c *Config) { c.Out = "" }, "--out"},
		{"fewer clients than senders", func(c *Config) { c.ScaleClients = 5 }, "--scale-clients 5"},
		{"more than 3 nodes take", func(c *Config) { c.BigClients = 60000 }, "--big-clients 60000"},
		{"skipped part not checked", func(c *Config) { c.Skip = []string{Big}; c.BigClients = 60000 }, ""},
		{"no rate", func(c *Config) { c.CrossRate = 0 }, "--cross-rate"},
		{"short", func(c *Config) { c.Duration = time.Millisecond }, "--duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v; want an error naming %q", err, tc.want)
			}
		})
	}
}

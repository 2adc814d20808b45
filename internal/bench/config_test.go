package bench

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"quick", func(c *Config) { *c = Quick() }, ""},
		{"unknown server", func(c *Config) { c.Servers = []string{"nginx"} }, "--servers"},
		{"too many clients", func(c *Config) { c.Clients = []int{30000} }, "--clients"},
		{"zero rate", func(c *Config) { c.Rates = []float64{0} }, "--rates"},
		{"tiny payload", func(c *Config) { c.Sizes = []int{4} }, "--sizes"},
		{"no repeat", func(c *Config) { c.Repeat = 0 }, "--repeat"},
		{"short duration", func(c *Config) { c.Duration = time.Millisecond }, "--duration"},
		{"same CPU", func(c *Config) { c.LoadgenCPU = c.ServerCPU }, "two different CPUs"},
		{"same CPU unpinned", func(c *Config) { c.LoadgenCPU = c.ServerCPU; c.NoPin = true }, ""},
		{"idle beyond fd limit", func(c *Config) { c.IdleConns = 25000 }, "--idle-conns"},
		{"addr is ours", func(c *Config) { c.ServerArgs = []string{"--addr"} }, "--addr"},
		{"bad tolerance", func(c *Config) { c.CapTolerance = 2 }, "--cap-tolerance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v; want an error mentioning %q", err, tc.want)
			}
		})
	}
}

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
		{"a peer", func(c *Config) { c.Servers = []string{"gws"} }, ""},
		{"named by --server", func(c *Config) {
			c.Servers = []string{"mine"}
			c.Commands = []ServerCmd{{Name: "mine", Command: "exec sh -c 'sleep 1' {port}"}}
		}, ""},
		{"only --server", func(c *Config) { c.Servers = nil; c.Commands = []ServerCmd{{Name: "mine", Command: "true {port}"}} }, ""},
		{"listed twice", func(c *Config) { c.Servers = []string{Ours, Ours} }, "listed twice"},
		{"--server twice", func(c *Config) {
			c.Commands = []ServerCmd{{Name: "mine", Command: "true {port}"}, {Name: "mine", Command: "true {port}"}}
		}, "given twice"},
		{"--server program missing", func(c *Config) { c.Commands = []ServerCmd{{Name: "mine", Command: "./no-such-server --port {port}"}} }, "--server mine"},
		{"floor without rates", func(c *Config) { c.FloorRates = nil }, "--floor-rates"},
		{"floor skipped without rates", func(c *Config) { c.FloorRates = nil; c.FloorSockets = 0 }, ""},
		{"floor beyond fd limit", func(c *Config) { c.FloorSockets = 20000 }, "--floor-sockets"},
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

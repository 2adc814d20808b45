package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsbench/wsbench/harness/target"
)

// Profile is a CPU profile of our server under load.
type Profile struct {
	Rate    float64 `json:"rate"`
	Clients int     `json:"clients"`
	Path    string  `json:"path"`          // .pprof, relative to the results directory
	Top     string  `json:"top,omitempty"` // `go tool pprof -top` output
	Err     string  `json:"error,omitempty"`
}

// profile runs l once more against our server started with --pprof and
// records a CPU profile of the measured window.
func (b *bench) profile(ctx context.Context, l Load) Profile {
	p := Profile{Rate: l.Rate, Clients: l.Clients, Path: "profile-ours.pprof"}
	b.prog.Begin(b.capEst, "ours: CPU profile at clients=%d rate=%s/s (%s deliveries/s)", l.Clients, fmtRate(l.Rate), si(float64(l.Clients)*l.Rate))
	spec := b.spec(Ours, filepath.Join(b.cfg.Out, "logs", "ours-profile.log"))
	argv := spec.Argv
	spec.Argv = func(addr string) []string { return append(argv(addr), "--pprof") }
	srv, err := target.Start(ctx, spec)
	if err != nil {
		p.Err = err.Error()
		b.prog.End("failed: %v", err)
		return p
	}
	defer srv.Stop()
	// The load's report sits in profile/, matched by loadgen compare
	// like any other folder.
	base := filepath.Join(b.cfg.Out, "profile", fmt.Sprintf("ours-c%d-r%s-s%d", l.Clients, fmtRate(l.Rate), l.Size))
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		p.Err = err.Error()
		b.prog.End("failed: %v", err)
		return p
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.gen.Run(ctx, srv.URL, l, base)
		done <- err
	}()
	// Start once the clients are connected and warmed up (estimated).
	select {
	case <-time.After(l.connectTime() + l.Warmup + 300*time.Millisecond):
	case <-ctx.Done():
		p.Err = ctx.Err().Error()
		return p
	}
	secs := max(1, int(l.Duration.Seconds()*0.8))
	err = fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", srv.Addr(), secs), filepath.Join(b.cfg.Out, p.Path), time.Duration(secs+10)*time.Second)
	if lerr := <-done; err == nil && lerr != nil {
		err = lerr
	}
	if err != nil {
		p.Err = err.Error()
		b.prog.End("failed: %v", err)
		return p
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=25", b.cfg.ServerBin, filepath.Join(b.cfg.Out, p.Path)).Output()
	if err != nil {
		p.Err = fmt.Sprintf("go tool pprof: %v", err)
	}
	p.Top = string(top)
	if err := os.WriteFile(filepath.Join(b.cfg.Out, "profile-ours.txt"), top, 0o644); err != nil {
		p.Err = err.Error()
	}
	b.prog.End("wrote %s and profile-ours.txt", p.Path)
	return p
}

func fetch(ctx context.Context, url, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

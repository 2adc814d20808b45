package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsbench/wsbench/loadgen/relaytest"
	"github.com/wsbench/wsbench/loadgen/report"
)

// loadgen runs subcommand name with args as the command line would.
func loadgen(name string, args []string, stdout, stderr io.Writer) int {
	return Main(context.Background(), name, args, nil, stdout, stderr)
}

func TestRunExitCodes(t *testing.T) {
	relay := &relaytest.Relay{}
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	small := []string{"--clients", "3", "--rate", "20", "--duration", "500ms", "--warmup", "0s", "-q"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"--help"}, ExitOK, ""},
		{"no url", []string{"--clients", "3"}, ExitUsage, "--url is required"},
		{"non-ws url", []string{"--url", "http://127.0.0.1/"}, ExitUsage, "not a WebSocket URL"},
		{"zero clients", []string{"--url", relay.URL(), "--clients", "0"}, ExitUsage, "--clients 0"},
		{"senders above clients", []string{"--url", relay.URL(), "--clients", "2", "--senders", "3"}, ExitUsage, "--senders 3"},
		{"small size", []string{"--url", relay.URL(), "--size", "16"}, ExitUsage, "--size 16"},
		{"zero rate", []string{"--url", relay.URL(), "--rate", "0"}, ExitUsage, "--rate 0"},
		{"ambiguous loss", []string{"--url", relay.URL(), "--max-loss", "5"}, ExitUsage, "write 5%"},
		{"bad source ips", []string{"--url", relay.URL(), "--source-ips", "nope"}, ExitUsage, "IPv4"},
		{"stray argument", []string{"--url", relay.URL(), "extra"}, ExitUsage, "unexpected argument"},
		{"no server", append([]string{"--url", closed}, small...), ExitNoConnection, "no connection"},
		{"ok", append([]string{"--url", relay.URL(), "--max-loss", "0%", "--max-p99", "1m"}, small...), ExitOK, ""},
		{"p99 exceeded", append([]string{"--url", relay.URL(), "--max-p99", "1ns"}, small...), ExitThreshold, "--max-p99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := loadgen("run", tc.args, &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("Run(%q) = %d, stderr %q; want %d mentioning %q", tc.args, code, errb.String(), tc.code, tc.stderr)
			}
		})
	}
}

func TestRunWritesOutputs(t *testing.T) {
	relay := &relaytest.Relay{}
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	dir := t.TempDir()
	out, hgrm, ilog := filepath.Join(dir, "a.json"), filepath.Join(dir, "a.hgrm"), filepath.Join(dir, "a.log")
	var stdout, stderr bytes.Buffer
	code := loadgen("run", []string{"--url", relay.URL(), "--clients", "4", "--rate", "40", "--duration", "1500ms",
		"--warmup", "0s", "--out", out, "--hgrm", hgrm, "--interval-log", ilog}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("Run = %d; stderr %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "latency") || !strings.Contains(stderr.String(), "connected 4/4") {
		t.Errorf("stdout %q / stderr %q; want the summary table and progress lines", stdout.String(), stderr.String())
	}
	rep, err := report.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages.Sent != 60 || rep.Messages.Lost != 0 {
		t.Errorf("report messages %+v; want 60 sent, none lost", rep.Messages)
	}
	h, _ := os.ReadFile(hgrm)
	if !strings.Contains(string(h), "Percentile") || !strings.Contains(string(h), "#[Mean") {
		t.Errorf("hgrm file lacks the percentile distribution format:\n%s", h)
	}
	if l, _ := os.ReadFile(ilog); !strings.Contains(string(l), `"p99_ms"`) {
		t.Errorf("interval log %q; want JSON lines with p99_ms", l)
	}

	if code := loadgen("merge", []string{out}, &stdout, &stderr); code != ExitUsage {
		t.Errorf("Merge without -o = %d; want %d", code, ExitUsage)
	}
}

func TestLoss(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.01", 0.01, true}, {"1%", 0.01, true}, {"0%", 0, true}, {"0", 0, true},
		{"5", 0, false}, {"150%", 0, false}, {"-1", 0, false}, {"x", 0, false},
	}
	for _, tc := range tests {
		var l Loss
		err := l.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && l.Fraction != tc.want) {
			t.Errorf("Loss.Set(%q) = %v, %v; want %v, ok %v", tc.in, l.Fraction, err, tc.want, tc.ok)
		}
	}
}

// TestSubcommands: every subcommand answers --help on stdout with its own
// usage; "help" is the run command's; an unknown one is a usage error.
func TestSubcommands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, sub string
		args      []string
		want      int
		out       string
	}{
		{"run", "run", []string{"--help"}, ExitOK, "usage: loadgen [run] --url"},
		{"help", "help", nil, ExitOK, "usage: loadgen [run] --url"},
		{"merge", "merge", []string{"--help"}, ExitOK, "usage: loadgen merge"},
		{"compare", "compare", []string{"--help"}, ExitOK, "usage: loadgen compare"},
		{"plot", "plot", []string{"--help"}, ExitOK, "usage: loadgen plot"},
		{"agent", "agent", []string{"--help"}, ExitOK, "usage: loadgen agent"},
		{"unknown", "bench", nil, ExitUsage, `unknown subcommand "bench"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			if got := loadgen(tc.sub, tc.args, &out, &errb); got != tc.want || !strings.Contains(out.String()+errb.String(), tc.out) {
				t.Errorf("loadgen %s %q = %d, output %q %q; want %d and %q", tc.sub, tc.args, got, out.String(), errb.String(), tc.want, tc.out)
			}
		})
	}
	if name, rest := Subcommand([]string{"--url", "x"}); name != "run" || len(rest) != 2 {
		t.Errorf("Subcommand(--url x) = %q, %q; want run with both arguments", name, rest)
	}
	if name, rest := Subcommand([]string{"merge", "a.json"}); name != "merge" || len(rest) != 1 {
		t.Errorf("Subcommand(merge a.json) = %q, %q; want merge, [a.json]", name, rest)
	}
}

package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsbench/wsbench/loadgen/relaytest"
	"github.com/wsbench/wsbench/loadgen/report"
)

// asMain makes the test binary act as the loadgen command when started
// with this variable set, so that signals are tested on the real main
// (signal handling lives nowhere else) without building another binary.
const asMain = "WSBENCH_LOADGEN_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		os.Exit(dispatch(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestInterruptExits130 sends SIGINT to a running loadgen in its measured
// window: it must exit 130 and still write the report, marked interrupted
// and invalid.
func TestInterruptExits130(t *testing.T) {
	relay := &relaytest.Relay{}
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	out := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(os.Args[0], "--url", relay.URL(), "--clients", "3", "--rate", "20",
		"--duration", "60s", "--warmup", "0s", "--out", out)
	cmd.Env = append(os.Environ(), asMain+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	timer := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() }) // bound a hung child
	defer timer.Stop()
	var lines []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), "measure") {
			_ = cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	go func() {
		defer close(done)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}()
	err = cmd.Wait()
	<-done
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("loadgen after SIGINT: %v; want exit status 130; stderr:\n%s", err, strings.Join(lines, "\n"))
	}
	if !strings.Contains(strings.Join(lines, "\n"), "interrupted") {
		t.Errorf("stderr:\n%s\nwant it to say the run was interrupted", strings.Join(lines, "\n"))
	}
	rep, err := report.ReadFile(out)
	if err != nil {
		t.Fatalf("report after SIGINT: %v", err)
	}
	if !rep.Interrupted || rep.Valid || rep.Messages.Sent == 0 || rep.MeasuredS >= 60 {
		t.Errorf("report interrupted %v valid %v sent %d measured %.1fs; want interrupted, invalid, part of the window measured",
			rep.Interrupted, rep.Valid, rep.Messages.Sent, rep.MeasuredS)
	}
}

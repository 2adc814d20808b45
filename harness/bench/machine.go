package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where a bench ran.
type Machine struct {
	Host, CPUModel, Kernel, Go, Node, Commit string
	Cores                                    int
	Split                                    string // the CPU split, as a sentence
	Started                                  time.Time
}

// DescribeMachine collects what machine.txt records.
func DescribeMachine(cfg Config) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Started: time.Now().UTC()}
	m.Host, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.Node = output("node", "--version")
	m.Commit = output("git", "rev-parse", "--short", "HEAD")
	if dirty := output("git", "status", "--porcelain", "--untracked-files=no"); dirty != "" && dirty != "?" {
		m.Commit += " (working tree has uncommitted changes)"
	}
	m.Split = cfg.SplitText()
	return m
}

// SplitText states the CPU split of cfg.
func (c Config) SplitText() string {
	nice := ""
	if c.Nice != 0 {
		nice = fmt.Sprintf("; server, loadgen and idle holder run at nice %d (ahead of other processes on a shared machine)", c.Nice)
	}
	if c.NoPin {
		return "not pinned (--no-pin): server and loadgen share all CPUs; Go processes run with GOMAXPROCS=1" + nice
	}
	return fmt.Sprintf("server on CPU %d, loadgen and idle-connection holder on CPU %d (taskset); GOMAXPROCS=1 for every Go process; Node is single-threaded (its helper threads share CPU %d)",
		c.ServerCPU, c.LoadgenCPU, c.ServerCPU) + nice
}

func output(name string, args ...string) string {
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return string(bytes.TrimSpace(b))
}

// Text renders machine.txt.
func (m Machine) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host:      %s\n", m.Host)
	fmt.Fprintf(&b, "started:   %s\n", m.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "cpu:       %s\n", m.CPUModel)
	fmt.Fprintf(&b, "cores:     %d\n", m.Cores)
	fmt.Fprintf(&b, "kernel:    %s\n", m.Kernel)
	fmt.Fprintf(&b, "go:        %s\n", m.Go)
	fmt.Fprintf(&b, "node:      %s\n", m.Node)
	fmt.Fprintf(&b, "commit:    %s\n", m.Commit)
	fmt.Fprintf(&b, "cpu split: %s\n", m.Split)
	return b.String()
}

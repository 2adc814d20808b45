package abuse

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/wsbench/wsbench/harness/target"
)

// Placement says where the server, and the attacker and probe (this
// program), run. On a 2-core machine shared with other work, a probe that
// shares the server's core mostly measures CPU contention; pinned like
// make bench pins server and load generator (harness/bench), the server
// has a core of its own, and the clean probe is measured under the same
// placement, so a ratio means what the abuse cost the server.
type Placement struct {
	ServerBin   string   // our server's binary to start; empty: Config.URL is already running
	ServerArgs  []string // extra server flags (--addr and --write-timeout are set here)
	ServerLog   string   // the server's stdout and stderr
	ServerCPU   int      // the server's CPU (taskset), with GOMAXPROCS=1
	AttackerCPU int      // this program's CPU, and so its attacker's and probe's
	NoPin       bool     // run everything unpinned
	Nice        int      // niceness of both (negative: ahead of other work; needs privileges)
}

// pinnedEnv marks a process that PinSelf has already re-executed.
const pinnedEnv = "WSBENCH_ABUSE_PINNED"

// Describe says in one line where things run, for the report.
func (p Placement) Describe() string {
	if p.NoPin {
		return "not pinned: server, attacker and probe share every CPU"
	}
	s := fmt.Sprintf("server on CPU %d (GOMAXPROCS=1), attacker and probe on CPU %d (taskset)", p.ServerCPU, p.AttackerCPU)
	if p.Nice != 0 {
		s += fmt.Sprintf(", nice %d", p.Nice)
	}
	return s
}

// Validate reports settings that cannot work.
func (p Placement) Validate() error {
	if p.NoPin {
		return nil
	}
	if p.ServerCPU < 0 || p.AttackerCPU < 0 || p.ServerCPU == p.AttackerCPU {
		return fmt.Errorf("--server-cpu %d / --attacker-cpu %d: want two different CPUs (or --no-pin)", p.ServerCPU, p.AttackerCPU)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return fmt.Errorf("taskset not found: install util-linux (apt-get install util-linux) or run with --no-pin")
	}
	return nil
}

// PinSelf re-executes this program on p.AttackerCPU through target.Pinned,
// unless pinning is off or it already runs that way. It returns only when
// there was nothing to do, or with the error of the exec.
func (p Placement) PinSelf() error {
	if p.NoPin || os.Getenv(pinnedEnv) != "" {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	argv := target.Pinned(append([]string{self}, os.Args[1:]...), p.AttackerCPU, p.Nice)
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	return syscall.Exec(path, argv, append(os.Environ(), pinnedEnv+"=1"))
}

// StartServer starts p.ServerBin on a free loopback port, pinned to
// p.ServerCPU through target.Start, with --write-timeout so that the
// slow-readers window and the server agree, and waits for /healthz.
func (p Placement) StartServer(ctx context.Context, writeTimeout time.Duration) (*target.Server, error) {
	spec := target.Ours("server", p.ServerBin, p.ServerLog, append([]string{"--write-timeout", writeTimeout.String()}, p.ServerArgs...)...)
	spec.Env, spec.Nice = []string{"GOMAXPROCS=1"}, p.Nice
	if !p.NoPin {
		spec.CPU = p.ServerCPU
	}
	return target.Start(ctx, spec)
}

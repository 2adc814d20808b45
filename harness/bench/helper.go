package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"

	"github.com/wsbench/wsbench/harness/target"
)

// helper is one of this program's hidden subcommands (IdleCommand,
// FloorDrainCommand) running as a pinned subprocess until its stdin
// closes.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHelper starts self's hidden subcommand args pinned to cpu at
// niceness nice with GOMAXPROCS=1, and returns it with the first line it
// printed (its "listening"/"ready" line). The caller calls stop.
func startHelper(ctx context.Context, self []string, cpu, nice int, args ...string) (*helper, string, error) {
	argv := target.Pinned(append(slices.Clone(self), args...), cpu, nice)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s: %w", args[0], err)
	}
	h := &helper{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		h.stop()
		return nil, line, fmt.Errorf("%s: no first line: %w", args[0], err)
	}
	return h, line, nil
}

// stop closes the helper's stdin, which ends it, and waits for it.
func (h *helper) stop() {
	h.stdin.Close()
	_ = h.cmd.Wait()
}

package cli

import (
	"context"

	"github.com/wsbench/wsbench/loadgen/shard/pipe"
)

// workerCmd is the hidden `loadgen worker`, one worker process of
// --procs: it takes no flags; its share comes on stdin from the
// coordinator (loadgen/shard/pipe).
func workerCmd() *command {
	return &command{run: func(ctx context.Context, _ []string, io stdio) int {
		return pipe.WorkerMain(ctx, io.in, io.out, io.err)
	}}
}

package chatserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsbench/wsbench/internal/testenv"
	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/chatserver/chattest"
)

// interopClient is a chat client in another language's WebSocket library
// (scripts/interop): the command that runs it, to which URL, name, count
// and peers are appended.
type interopClient struct {
	name string
	cmd  []string
	env  []string
}

// TestInteropNodeAndPython: a client on Node's `ws` (npm) and one on
// Python's `websockets` (Debian python3-websockets) join one room of the
// reference server and chat: each receives every text message of both,
// itself included, exactly once, in each sender's order, as text, and the
// close handshake ends with 1000.
func TestInteropNodeAndPython(t *testing.T) {
	node, nodeWS := testenv.NodeWS(t)
	python := testenv.PythonWebsockets(t)
	interop := filepath.Join(nodeWS, "..", "interop")
	clients := []interopClient{
		{name: "node-ws", cmd: []string{node, filepath.Join(interop, "node-client.js")}, env: []string{"NODE_PATH=" + filepath.Join(nodeWS, "node_modules")}},
		{name: "python-websockets", cmd: []string{python, filepath.Join(interop, "python-client.py")}},
	}
	addr := chattest.Start(t, chatserver.DefaultConfig(), t.Logf)
	url := "ws://" + addr + "/interop"
	const count = 50
	names := make([]string, len(clients))
	for i, c := range clients {
		names[i] = c.name
	}

	type result struct {
		Name     string `json:"name"`
		Close    int    `json:"close"`
		Received []struct {
			Text   string `json:"text"`
			Binary bool   `json:"binary"`
		} `json:"received"`
	}
	results := make([]result, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append(append(c.cmd[1:len(c.cmd):len(c.cmd)], url, c.name, strconv.Itoa(count)), names...)
			cmd := exec.CommandContext(ctx, c.cmd[0], args...)
			cmd.Env = append(os.Environ(), c.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("%s: %v\n%s", c.name, err, stderr.String())
				return
			}
			if err := json.Unmarshal(out, &results[i]); err != nil {
				t.Errorf("%s: output %q: %v", c.name, out, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, r := range results {
		if r.Close != 1000 {
			t.Errorf("%s: close code %d; want 1000", clients[i].name, r.Close)
		}
		next := map[string]int{} // sender -> next expected index
		for _, m := range r.Received {
			if m.Binary {
				t.Errorf("%s: %q arrived as binary; the server must keep the text opcode", r.Name, m.Text)
			}
			sender, idx, ok := strings.Cut(m.Text, " ")
			if !ok {
				t.Errorf("%s: unexpected message %q", r.Name, m.Text)
				continue
			}
			if want := strconv.Itoa(next[sender]); idx != want {
				t.Errorf("%s: from %s got message %s; want %s (lost, duplicated or reordered)", r.Name, sender, idx, want)
			}
			next[sender]++
		}
		for _, n := range names {
			if next[n] != count {
				t.Errorf("%s: %d messages from %s; want %d", r.Name, next[n], n, count)
			}
		}
		if len(r.Received) != count*len(names) {
			t.Errorf("%s: %d messages; want %d", r.Name, len(r.Received), count*len(names))
		}
	}
	t.Logf("%v: each received %d messages in order", names, count*len(names))
}

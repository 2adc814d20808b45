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

	"github.com/wsbench/wsbench/server/chatserver"
	"github.com/wsbench/wsbench/server/chatserver/chattest"
)

// interopClient is a chat client in another language's WebSocket library
// (scripts/interop): the command line that runs it, given URL, name, count
// and peers.
type interopClient struct {
	name string
	argv func(url, name string, count int, peers []string) []string
	env  []string
}

// requireTool fails under CI=true (where .ci/run installs everything) and
// skips elsewhere when a peer's runtime or library is missing.
func requireTool(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (CI=true requires it; .ci/run installs it): %v", what, err)
	}
	t.Skipf("%s is missing: %v", what, err)
}

// pythonWithWebsockets returns a Python interpreter that can import
// websockets: the one on PATH, else Debian's (python3-websockets installs
// into /usr/bin/python3's packages, which a pyenv or venv python3 on PATH
// does not see).
func pythonWithWebsockets() (string, error) {
	var err error
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if err = exec.Command(py, "-c", "import websockets").Run(); err == nil {
			return py, nil
		}
	}
	return "", err
}

// TestInteropNodeAndPython: a client on Node's `ws` (npm) and one on
// Python's `websockets` (Debian python3-websockets) join one room of the
// reference server and chat: each receives every text message of both,
// itself included, exactly once, in each sender's order, as text, and the
// close handshake ends with 1000.
func TestInteropNodeAndPython(t *testing.T) {
	scripts, err := filepath.Abs("../../scripts")
	if err != nil {
		t.Fatal(err)
	}
	_, err = exec.LookPath("node")
	requireTool(t, "node", err)
	nodePath := filepath.Join(scripts, "node-ws", "node_modules")
	_, err = os.Stat(filepath.Join(nodePath, "ws"))
	requireTool(t, "the npm ws package (scripts/node-ws/install.sh)", err)
	python, err := pythonWithWebsockets()
	requireTool(t, "python3 with websockets (apt-get install python3-websockets)", err)

	clients := []interopClient{
		{name: "node-ws", env: []string{"NODE_PATH=" + nodePath}, argv: func(url, name string, count int, peers []string) []string {
			return append([]string{"node", filepath.Join(scripts, "interop", "node-client.js"), url, name, strconv.Itoa(count)}, peers...)
		}},
		{name: "python-websockets", argv: func(url, name string, count int, peers []string) []string {
			return append([]string{python, filepath.Join(scripts, "interop", "python-client.py"), url, name, strconv.Itoa(count)}, peers...)
		}},
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
			argv := c.argv(url, c.name, count, names)
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
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

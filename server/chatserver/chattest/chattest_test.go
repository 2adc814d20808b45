package chattest

import (
	"net/http"
	"testing"

	"github.com/wsbench/wsbench/server/chatserver"
)

func TestStartServes(t *testing.T) {
	addr := Start(t, chatserver.DefaultConfig(), t.Logf)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d; want 200", resp.StatusCode)
	}
}

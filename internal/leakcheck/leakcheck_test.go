package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func TestLeaked(t *testing.T) {
	before := len(Goroutines())
	stop := make(chan struct{})
	go func() { <-stop }()
	left := Leaked(before, 100*time.Millisecond)
	if len(left) != before+1 || !strings.Contains(strings.Join(left, "\n"), "TestLeaked.func1") {
		t.Fatalf("with a goroutine blocked: Leaked returned %d stacks, want %d including TestLeaked.func1", len(left), before+1)
	}
	close(stop)
	if left := Leaked(before, 5*time.Second); left != nil {
		t.Fatalf("after the goroutine ended: Leaked returned %d stacks, want nil:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

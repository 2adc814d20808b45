package nats_test

import (
	"testing"

	"github.com/wsbench/wsbench/internal/leakcheck"
)

// TestMain fails the package when goroutines outlive its tests.
func TestMain(m *testing.M) { leakcheck.Main(m) }

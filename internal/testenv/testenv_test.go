package testenv

import (
	"errors"
	"testing"
)

func TestRequire(t *testing.T) {
	t.Run("present", func(t *testing.T) {
		Require(t, "thing", nil) // must neither fail nor skip
	})
	t.Run("missing, not CI", func(t *testing.T) {
		t.Setenv("CI", "")
		ok := t.Run("inner", func(t *testing.T) {
			Require(t, "thing", errors.New("not found"))
			t.Error("Require returned for a missing tool")
		})
		if !ok {
			t.Fatal("a missing tool outside CI must skip, not fail")
		}
	})
}

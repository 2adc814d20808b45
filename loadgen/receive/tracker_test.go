package receive

import "testing"

func TestTracker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		senders   uint64
		n         uint64
		slots     []uint64
		unique    int64
		dup, reor int64
	}{
		{"in order", 1, 10, []uint64{0, 1, 2, 3}, 4, 0, 0},
		{"gap is not reorder", 1, 10, []uint64{0, 2, 3}, 3, 0, 0},
		{"swap", 1, 10, []uint64{0, 2, 1, 3}, 4, 0, 1},
		{"duplicate", 1, 10, []uint64{0, 1, 1, 2}, 3, 1, 0},
		{"late after gap", 1, 10, []uint64{0, 3, 4, 1}, 4, 0, 1},
		// Two senders: slots 0,2,4 are sender 0 and 1,3,5 sender 1.
		{"interleaved senders are not reordered", 2, 10, []uint64{1, 0, 3, 2, 5, 4}, 6, 0, 0},
		{"reorder within a sender", 2, 10, []uint64{0, 4, 1, 2}, 4, 0, 1},
		{"other sender later is fine", 2, 10, []uint64{5, 0, 2, 4}, 4, 0, 0},
		{"wide window", 3, 200, []uint64{130, 199, 7, 196, 193}, 5, 0, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tr Tracker
			for _, s := range tc.slots {
				tr.Observe(s, tc.senders, tc.n)
			}
			if tr.Unique() != tc.unique || tr.Duplicated != tc.dup || tr.Reordered != tc.reor {
				t.Errorf("after %v: unique/dup/reordered = %d/%d/%d; want %d/%d/%d",
					tc.slots, tr.Unique(), tr.Duplicated, tr.Reordered, tc.unique, tc.dup, tc.reor)
			}
		})
	}
}

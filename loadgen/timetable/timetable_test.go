package timetable

import (
	"testing"
	"time"
)

func TestDueSpreadsSendersEvenly(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	tt := Timetable{Start: start, Rate: 100, Senders: 4}
	tests := []struct {
		name   string
		sender int
		seq    uint64
		want   time.Duration
	}{
		{"first of sender 0", 0, 0, 0},
		{"first of sender 1", 1, 0, 10 * time.Millisecond},
		{"first of sender 3", 3, 0, 30 * time.Millisecond},
		{"second of sender 0", 0, 1, 40 * time.Millisecond},
		{"tenth of sender 2", 2, 9, (2 + 9*4) * 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tt.Due(tt.Slot(tc.sender, tc.seq)).Sub(start)
			if got != tc.want {
				t.Errorf("Due(sender %d, seq %d) = start+%v; want start+%v", tc.sender, tc.seq, got, tc.want)
			}
		})
	}
}

func TestSlotsBefore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rate float64
		d    time.Duration
		want uint64
	}{
		{"zero", 100, 0, 0},
		{"negative", 100, -time.Second, 0},
		{"one second at 100/s", 100, time.Second, 100},
		{"just after a slot", 100, time.Second + time.Nanosecond, 101},
		{"fractional rate", 3, time.Second, 3},
		{"odd rate", 7, 2 * time.Second, 14},
		{"slow rate", 0.5, 3 * time.Second, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tt := Timetable{Rate: tc.rate, Senders: 3}
			if got := tt.SlotsBefore(tc.d); got != tc.want {
				t.Errorf("SlotsBefore(%v) at %v/s = %d; want %d", tc.d, tc.rate, got, tc.want)
			}
		})
	}
}

func TestFirstSeq(t *testing.T) {
	t.Parallel()
	tt := Timetable{Rate: 10, Senders: 4}
	for n := uint64(0); n < 40; n++ {
		for k := 0; k < 4; k++ {
			seq := tt.FirstSeq(k, n)
			if tt.Slot(k, seq) < n || (seq > 0 && tt.Slot(k, seq-1) >= n) {
				t.Fatalf("FirstSeq(%d, %d) = %d: slot %d is not the first >= %d", k, n, seq, tt.Slot(k, seq), n)
			}
		}
	}
}

package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// healthy returns the counters of a run that measured what it was asked.
func healthy() *Report {
	return &Report{
		Tool:        Tool,
		Config:      Config{Clients: 100, DurationS: 10, MaxDrops: DefaultMaxDrops, MaxConnectFail: DefaultMaxConnectFail},
		Connections: Connections{Attempted: 100, Established: 100},
		Messages:    Messages{Sent: 1000, Receivers: 100, Expected: 100_000, Delivered: 100_000, ExpectedAll: 100_000},
		MeasuredS:   10,
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Report)
		want   string // "" = valid; else a part of the one reason
	}{
		{"healthy", func(*Report) {}, ""},
		{"sent but none delivered", func(r *Report) { r.Messages.Delivered = 0 }, "none delivered"},
		{"foreign outnumber", func(r *Report) { r.Messages.Foreign = 100_001 }, "foreign messages outnumber"},
		{"drops past limit", func(r *Report) { r.Connections.Dropped = 2 }, "2 of 100 connections"},
		{"drops at limit", func(r *Report) { r.Connections.Dropped = 1 }, ""},
		{"drops allowed", func(r *Report) { r.Connections.Dropped, r.Config.MaxDrops = 90, 1 }, ""},
		{"failed connects past limit", func(r *Report) { r.Connections.Failed, r.Connections.Established = 75, 25 }, "75 of 100 connections (75.00%) failed"},
		{"nothing sent", func(r *Report) { r.Messages = Messages{} }, "no broadcast was sent"},
		{"no connection", func(r *Report) {
			r.Connections = Connections{Attempted: 100, Failed: 100}
			r.Config.MaxConnectFail = 1
		}, "no connection"},
		{"interrupted", func(r *Report) { r.Interrupted, r.MeasuredS = true, 3 }, "interrupted: 3.00s of the 10s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := healthy()
			tc.change(r)
			r.Judge()
			got := strings.Join(r.InvalidReasons, " | ")
			switch {
			case tc.want == "" && (!r.Valid || got != ""):
				t.Errorf("Judge: valid %v, reasons %q; want valid", r.Valid, got)
			case tc.want != "" && (r.Valid || len(r.InvalidReasons) != 1 || !strings.Contains(got, tc.want)):
				t.Errorf("Judge: valid %v, reasons %q; want invalid for one reason mentioning %q", r.Valid, got, tc.want)
			}
		})
	}
}

func TestReadJudgesLegacyReports(t *testing.T) {
	t.Parallel()
	// Written before validity: no "valid" field, foreign outnumbering.
	in := `{"tool":"wsbench-loadgen","connections":{"attempted":2,"established":2},"messages":{"sent":10,"delivered":0,"foreign":40}}`
	r, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid || len(r.InvalidReasons) != 2 {
		t.Errorf("Read(legacy) valid %v reasons %q; want invalid: none delivered, foreign outnumber", r.Valid, r.InvalidReasons)
	}
}

func TestTableOfRunThatNeverSent(t *testing.T) {
	t.Parallel()
	r := healthy()
	r.Messages, r.MeasuredS = Messages{}, 0
	r.Judge()
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "kept the timetable") || !strings.Contains(out, "sent nothing") || !strings.Contains(out, "INVALID") {
		t.Errorf("table:\n%s\nwant no timetable claim, 'sent nothing' and an INVALID line", out)
	}
}

func TestMergePartsCarriesVerdicts(t *testing.T) {
	t.Parallel()
	a, b := healthy(), healthy()
	a.RunID, b.RunID = "a", "b"
	a.Window = &Window{Start: "2026-12-02T10:00:00.000000000Z", End: "2026-12-02T10:00:10.000000000Z"}
	b.Window = &Window{Start: "2026-12-02T10:00:17.000000000Z", End: "2026-12-02T10:00:27.000000000Z"}
	b.Messages.Foreign = 200_000
	b.Judge()
	m, warnings, err := MergeParts([]*Report{a, b}, []string{"a.json", "b.json"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Valid || !strings.Contains(strings.Join(m.InvalidReasons, " "), "b.json: 200000 foreign") {
		t.Errorf("merged valid %v reasons %q; want invalid, carrying b.json's reason", m.Valid, m.InvalidReasons)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "do not overlap (7s apart)") {
		t.Errorf("warnings %q; want one saying the windows are 7s apart", warnings)
	}
	if _, _, err := MergeParts([]*Report{a, b, a}, []string{"a.json", "b.json", "c.json"}); !errors.Is(err, ErrSameRun) {
		t.Errorf("MergeParts(a, b, a) error %v; want ErrSameRun", err)
	}
}

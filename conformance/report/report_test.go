package report

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsbench/wsbench/conformance/suite"
)

func sample() []Entry {
	c := func(id, group string) suite.Case {
		return suite.Case{ID: id, Group: group, Title: "title of " + id + " <&>", Ref: "RFC 6455 §5.2"}
	}
	return []Entry{
		{c("HS-01", "handshake"), suite.Result{Verdict: suite.OK, Elapsed: 3 * time.Millisecond}},
		{c("MS-09", "messages"), suite.NonStrictf("no leak", "leaked %q", "x\x01")},
		{c("HS-08", "handshake"), suite.Info("selected %s", "chat")},
		{c("PP-05", "ping"), suite.Skip("no --ping-interval given")},
		{c("CL-10", "close"), suite.Fail("no 1005", "CL-01 got 1005 & <more>")},
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	if got := Count(sample()).String(); got != "3 passed, 1 failed, 1 skipped" {
		t.Errorf("Count = %q", got)
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := WriteText(&b, sample()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines; want 6:\n%s", len(lines), b.String())
	}
	if !strings.HasPrefix(lines[4], "CL-10     FAILED") || !strings.Contains(lines[4], "expected no 1005; observed CL-01 got 1005") {
		t.Errorf("failed line = %q", lines[4])
	}
	if lines[5] != "3 passed, 1 failed, 1 skipped" {
		t.Errorf("closing line = %q", lines[5])
	}
}

func TestWriteJUnitWellFormed(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteJUnit(&b, "wsbench conformance", sample()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Cases    []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, b.String())
	}
	if got.Tests != 5 || got.Failures != 1 || got.Skipped != 1 || len(got.Cases) != 5 {
		t.Fatalf("tests/failures/skipped = %d/%d/%d, %d cases", got.Tests, got.Failures, got.Skipped, len(got.Cases))
	}
	if got.Cases[4].Failure == nil || got.Cases[3].Skipped == nil || got.Cases[1].Failure != nil {
		t.Errorf("failure/skipped elements misplaced: %+v", got.Cases)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	rep := NewJSON("ws://127.0.0.1:8181/", time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), sample())
	var b bytes.Buffer
	if err := WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rep) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, rep)
	}
	if back.Cases[4].Verdict != "FAILED" || back.Failed != 1 {
		t.Errorf("verdict %q, failed %d", back.Cases[4].Verdict, back.Failed)
	}
	if _, err := ReadJSON(strings.NewReader(`{"tool":1}`)); err == nil {
		t.Error("ReadJSON accepted a wrong type")
	}
}

package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestHistogramRoundTrip(t *testing.T) {
	h := NewLatencyHistogram()
	for _, v := range []int64{1, 250, 1000, 1500, 59_000_000} {
		if err := h.RecordValue(v); err != nil {
			t.Fatalf("RecordValue(%d): %v", v, err)
		}
	}
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeHistogram(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalCount() != h.TotalCount() || got.Max() != h.Max() || got.Min() != h.Min() {
		t.Errorf("decoded count/min/max = %d/%d/%d; want %d/%d/%d",
			got.TotalCount(), got.Min(), got.Max(), h.TotalCount(), h.Min(), h.Max())
	}
}

func TestReportRoundTrip(t *testing.T) {
	in := &Report{Tool: Tool, Version: "test", URL: "ws://127.0.0.1:1/", Messages: Messages{Sent: 3, Delivered: 9}}
	var buf bytes.Buffer
	if err := in.Write(&buf); err != nil {
		t.Fatal(err)
	}
	out, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if out.Messages != in.Messages || out.URL != in.URL {
		t.Errorf("Read(Write(r)) = %+v; want %+v", out, in)
	}
}

func TestReadRefusesOtherJSON(t *testing.T) {
	_, err := Read(strings.NewReader(`{"tool":"other"}`))
	if !errors.Is(err, ErrNotReport) {
		t.Errorf("Read(other tool) error = %v; want ErrNotReport", err)
	}
}

func TestSummarizeMilliseconds(t *testing.T) {
	h := NewLatencyHistogram()
	for i := int64(1); i <= 1000; i++ {
		_ = h.RecordValue(i * 1000) // 1 ms … 1000 ms
	}
	s := Summarize(h)
	if s.Count != 1000 || s.Min != 1 || s.P50 < 499 || s.P50 > 501 || s.Max < 999 || s.Max > 1001 {
		t.Errorf("Summarize = %+v; want count 1000, min 1, p50≈500, max≈1000", s)
	}
}

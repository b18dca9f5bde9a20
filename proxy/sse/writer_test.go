package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	datas := []string{`{"a":1}`, "[DONE]", "", "two\nlines", "cr\r\nlf\rmix"}
	for _, d := range datas {
		if err := w.WriteData([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteComment("keep\nalive"); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRaw([]byte("data: raw\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "data: {\"a\":1}\n\ndata: [DONE]\n\ndata: \n\ndata: two\ndata: lines\n\n") {
		t.Errorf("WriteData wrote %q", buf.String())
	}
	evs, err := readAll(NewReader(&buf))
	if err != io.EOF {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, "[DONE]", "", "two\nlines", "cr\nlf\nmix", "<nil>", "raw"}
	if len(evs) != len(want) {
		t.Fatalf("read back %d events, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		got := "<nil>"
		if ev.Data != nil {
			got = string(ev.Data)
		}
		if got != want[i] {
			t.Errorf("event %d Data = %q, want %q", i, got, want[i])
		}
	}
	if string(evs[5].Raw) != ": keep alive\n\n" {
		t.Errorf("WriteComment wrote %q, want %q", evs[5].Raw, ": keep alive\n\n")
	}
}

func TestWriterFlushes(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := NewWriter(rec).WriteData([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if !rec.Flushed {
		t.Errorf("Writer.WriteData on a ResponseRecorder: Flushed = false, want true")
	}
	rec = httptest.NewRecorder()
	if err := WriteData(rec, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if !rec.Flushed || rec.Body.String() != "data: y\n\n" {
		t.Errorf("WriteData(rec, y): Flushed %v body %q, want true %q", rec.Flushed, rec.Body.String(), "data: y\n\n")
	}

	// A wrapper that hides Flush but offers Unwrap is flushed through
	// http.ResponseController.
	rec = httptest.NewRecorder()
	if err := NewWriter(wrapped{rec}).WriteData([]byte("z")); err != nil {
		t.Fatal(err)
	}
	if !rec.Flushed {
		t.Errorf("Writer on an Unwrap-able wrapper: Flushed = false, want true")
	}

	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	if err := NewWriter(bw).WriteData([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "data: b\n\n" {
		t.Errorf("Writer on a bufio.Writer: underlying got %q, want it flushed", out.String())
	}
}

type wrapped struct{ http.ResponseWriter }

func (w wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriterError(t *testing.T) {
	if err := NewWriter(failWriter{}).WriteData([]byte("x")); err == nil {
		t.Errorf("WriteData on a failing writer: error = nil, want an error")
	}
	if err := WriteData(failWriter{}, []byte("x")); err == nil {
		t.Errorf("WriteData(failWriter) = nil, want an error")
	}
}

func TestSetHeadersAndIsEventStream(t *testing.T) {
	h := http.Header{"Content-Length": {"12"}}
	SetHeaders(h)
	if h.Get("Content-Type") != "text/event-stream" || h.Get("Content-Length") != "" || h.Get("Cache-Control") != "no-cache" {
		t.Errorf("SetHeaders gave %v", h)
	}
	for in, want := range map[string]bool{
		"text/event-stream":                true,
		"text/event-stream; charset=utf-8": true,
		" Text/Event-Stream ;x=y":          true,
		"application/json; charset=UTF-8":  false,
		"":                                 false,
		"text/event-streamx":               false,
	} {
		if got := IsEventStream(in); got != want {
			t.Errorf("IsEventStream(%q) = %v, want %v", in, got, want)
		}
	}
}

func BenchmarkWriter(b *testing.B) {
	data := bytes.Repeat([]byte(`{"candidates":[{"content":{"parts":[{"text":"hello"}]}}]}`), 4)
	w := NewWriter(io.Discard)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteData(data); err != nil {
			b.Fatal(err)
		}
	}
}

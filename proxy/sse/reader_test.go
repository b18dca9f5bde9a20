package sse

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every event of r until an error; it returns the events and
// the error (io.EOF at a clean end).
func readAll(r *Reader) ([]Event, error) {
	var evs []Event
	for {
		ev, err := r.Next()
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = b
	}
	return out
}

// TestReaderFixtures reads the real captured streams: every event's data is
// one JSON object, and the Raw bytes add up to the stream.
func TestReaderFixtures(t *testing.T) {
	unterminated := map[string]bool{
		"streamGenerateContent.prompt-blocked.sse.txt": true, // capture ends in one "\r\n"
		"fb-streaming-success-finish-message.txt":      true, // capture ends in one "\n"
	}
	for name, b := range fixtures(t) {
		for _, mode := range []string{"whole", "one byte", "half"} {
			var src io.Reader = bytes.NewReader(b)
			switch mode {
			case "one byte":
				src = iotest.OneByteReader(src)
			case "half":
				src = iotest.HalfReader(src)
			}
			evs, err := readAll(NewReader(src))
			if err != io.EOF {
				t.Errorf("%s (%s): Next() error = %v, want io.EOF", name, mode, err)
			}
			want := bytes.Count(b, []byte("data: "))
			if len(evs) != want {
				t.Errorf("%s (%s): read %d events, want %d", name, mode, len(evs), want)
			}
			var raw []byte
			for i, ev := range evs {
				raw = append(raw, ev.Raw...)
				if !json.Valid(ev.Data) {
					t.Errorf("%s (%s): event %d Data is not JSON: %.60q", name, mode, i, ev.Data)
				}
				last := i == len(evs)-1
				if ev.Unterminated != (last && unterminated[name]) {
					t.Errorf("%s (%s): event %d Unterminated = %v, want %v", name, mode, i, ev.Unterminated, last && unterminated[name])
				}
			}
			if !bytes.Equal(raw, b) {
				t.Errorf("%s (%s): concatenated Raw differs from the stream", name, mode)
			}
		}
	}
}

func TestReaderFraming(t *testing.T) {
	type ev struct {
		data  string // "<nil>" for no data line
		typ   string
		id    string
		raw   string
		unter bool
	}
	tests := []struct {
		name string
		in   string
		want []ev
	}{
		{"lf", "data: a\n\ndata: b\n\n", []ev{{data: "a", raw: "data: a\n\n"}, {data: "b", raw: "data: b\n\n"}}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []ev{{data: "a", raw: "data: a\r\n\r\n"}, {data: "b", raw: "data: b\r\n\r\n"}}},
		{"cr", "data: a\r\rdata: b\r\r", []ev{{data: "a", raw: "data: a\r\r"}, {data: "b", raw: "data: b\r\r"}}},
		{"mixed", "data: a\r\n\ndata: b\n\r\ndata: c\r\r\n", []ev{{data: "a", raw: "data: a\r\n\n"}, {data: "b", raw: "data: b\n\r\n"}, {data: "c", raw: "data: c\r\r\n"}}},
		{"multi-line data", "data: a\ndata:b\ndata:  c\n\n", []ev{{data: "a\nb\n c", raw: "data: a\ndata:b\ndata:  c\n\n"}}},
		{"empty data", "data\n\ndata:\n\n", []ev{{data: "", raw: "data\n\n"}, {data: "", raw: "data:\n\n"}}},
		{"comment", ": keep-alive\n\ndata: x\n\n", []ev{{data: "<nil>", raw: ": keep-alive\n\n"}, {data: "x", raw: "data: x\n\n"}}},
		{"comment inside", "data: a\n: note\ndata: b\n\n", []ev{{data: "a\nb", raw: "data: a\n: note\ndata: b\n\n"}}},
		{"fields", "event: message\nid: 7\nretry: 10\nfoo: bar\ndata: {}\n\n", []ev{{data: "{}", typ: "message", id: "7", raw: "event: message\nid: 7\nretry: 10\nfoo: bar\ndata: {}\n\n"}}},
		{"leading blank lines", "\r\n\r\ndata: a\r\n\r\n", []ev{{data: "a", raw: "\r\n\r\ndata: a\r\n\r\n"}}},
		{"extra blank lines", "data: a\n\n\n\ndata: b\n\n", []ev{{data: "a", raw: "data: a\n\n"}, {data: "b", raw: "\n\ndata: b\n\n"}}},
		{"trailing blank lines", "data: a\n\n\n", []ev{{data: "a", raw: "data: a\n\n"}, {data: "<nil>", raw: "\n"}}},
		{"unterminated line", "data: a\n\ndata: b", []ev{{data: "a", raw: "data: a\n\n"}, {data: "b", raw: "data: b", unter: true}}},
		{"unterminated event", "data: a\r\n", []ev{{data: "a", raw: "data: a\r\n", unter: true}}},
		{"cr at end", "data: a\r\r", []ev{{data: "a", raw: "data: a\r\r"}}},
		{"plain JSON error body", "{\n  \"error\": {}\n}\n", []ev{{data: "<nil>", raw: "{\n  \"error\": {}\n}\n", unter: true}}},
		{"colon in value", "data: {\"a\":\"b: c\"}\n\n", []ev{{data: `{"a":"b: c"}`, raw: "data: {\"a\":\"b: c\"}\n\n"}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(tt.in)
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			evs, err := readAll(NewReader(src))
			if err != io.EOF {
				t.Errorf("%s: Next() error = %v, want io.EOF", tt.name, err)
			}
			var got []ev
			for _, e := range evs {
				d := "<nil>"
				if e.Data != nil {
					d = string(e.Data)
				}
				got = append(got, ev{data: d, typ: e.Type, id: e.ID, raw: string(e.Raw), unter: e.Unterminated})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Next() on %s (%q, one byte %v) = %+v, want %+v", tt.name, tt.in, oneByte, got, tt.want)
			}
		}
	}
}

func TestReaderLargeEvent(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20+17) // larger than any buffer step
	in := "data: small\r\n\r\ndata: " + string(big) + "\r\n\r\ndata: after\r\n\r\n"
	evs, err := readAll(NewReader(iotest.HalfReader(strings.NewReader(in))))
	if err != io.EOF || len(evs) != 3 {
		t.Fatalf("readAll(1 MiB event) = %d events, %v; want 3, io.EOF", len(evs), err)
	}
	if !bytes.Equal(evs[1].Data, big) || string(evs[2].Data) != "after" {
		t.Errorf("readAll(1 MiB event): events 1,2 data wrong (len %d, %q)", len(evs[1].Data), evs[2].Data)
	}

	r := NewReader(strings.NewReader(in))
	r.SetMaxEventSize(64 << 10)
	ev, err := r.Next()
	if err != nil || string(ev.Data) != "small" {
		t.Fatalf("Next() = %q, %v; want small, nil", ev.Data, err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("Next() on a 1 MiB event with a 64 KiB limit: error = %v, want ErrEventTooLarge", err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("Next() after ErrEventTooLarge: error = %v, want ErrEventTooLarge again", err)
	}
}

func TestReaderManyEventsSmallBuffer(t *testing.T) {
	// Many events through a one-byte reader exercise compaction.
	var b strings.Builder
	for i := range 2000 {
		b.WriteString("data: {\"i\":")
		b.WriteString(strings.Repeat("1", i%50+1))
		b.WriteString("}\r\n\r\n")
	}
	evs, err := readAll(NewReader(iotest.OneByteReader(strings.NewReader(b.String()))))
	if err != io.EOF || len(evs) != 2000 {
		t.Fatalf("readAll = %d events, %v; want 2000, io.EOF", len(evs), err)
	}
	for i, ev := range evs {
		if want := `{"i":` + strings.Repeat("1", i%50+1) + `}`; string(ev.Data) != want {
			t.Fatalf("event %d Data = %q, want %q", i, ev.Data, want)
		}
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	src := io.MultiReader(strings.NewReader("data: a\n\ndata: partial"), iotest.ErrReader(boom))
	r := NewReader(src)
	if ev, err := r.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatalf("Next() = %q, %v; want a, nil", ev.Data, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("Next() after a read error = %v, want %v", err, boom)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("Next() again = %v, want %v", err, boom)
	}
}

func TestEventDataDoesNotAliasRaw(t *testing.T) {
	r := NewReader(strings.NewReader("data: abc\n\n"))
	ev, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	_ = append(ev.Data, "XYZ"...)
	if string(ev.Raw) != "data: abc\n\n" {
		t.Errorf("appending to Data changed Raw to %q", ev.Raw)
	}
}

// refParse is a plain reading of the WHATWG algorithm over the whole input:
// the data of every dispatched event.
func refParse(in []byte) []string {
	var out []string
	var data []byte
	dataSeen := false
	for len(in) > 0 {
		i := bytes.IndexAny(in, "\r\n")
		if i < 0 {
			break // an unterminated line is never processed
		}
		line := in[:i]
		next := i + 1
		if in[i] == '\r' && next < len(in) && in[next] == '\n' {
			next++
		}
		in = in[next:]
		if len(line) == 0 {
			if dataSeen {
				out = append(out, string(bytes.TrimSuffix(data, []byte("\n"))))
			}
			data, dataSeen = data[:0], false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte(":"))
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		if string(field) == "data" {
			data = append(data, value...)
			data = append(data, '\n')
			dataSeen = true
		}
	}
	return out
}

func FuzzReader(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b)
	}
	for _, s := range []string{"data: a\r\rdata: b\r\n\r\n", "\r", "\r\n", "data:\r", ":x\n\n", "data: a\n\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, err := readAll(NewReader(bytes.NewReader(in)))
		if err != io.EOF {
			t.Fatalf("Next() error = %v, want io.EOF", err)
		}
		oneByte, err := readAll(NewReader(iotest.OneByteReader(bytes.NewReader(in))))
		if err != io.EOF {
			t.Fatalf("Next() one byte at a time: error = %v, want io.EOF", err)
		}
		if !reflect.DeepEqual(whole, oneByte) {
			t.Fatalf("events differ between whole and one-byte reads:\n%+v\n%+v", whole, oneByte)
		}
		var raw []byte
		var data []string
		for i, ev := range whole {
			raw = append(raw, ev.Raw...)
			if ev.Unterminated && i != len(whole)-1 {
				t.Fatalf("event %d of %d is Unterminated", i, len(whole))
			}
			if ev.Data != nil && !ev.Unterminated {
				data = append(data, string(ev.Data))
			}
		}
		if !bytes.Equal(raw, in) {
			t.Fatalf("concatenated Raw = %q, want %q", raw, in)
		}
		if want := refParse(in); !reflect.DeepEqual(data, want) && !(len(data) == 0 && len(want) == 0) {
			t.Fatalf("data = %q, reference parser says %q", data, want)
		}
	})
}

// BenchmarkReader reads all real stream fixtures, 20 times over, as one
// stream.
func BenchmarkReader(b *testing.B) {
	var stream []byte
	for range 20 {
		for _, f := range fixtures(b) {
			if !bytes.HasSuffix(f, []byte("\n\n")) && !bytes.HasSuffix(f, []byte("\r\n\r\n")) {
				continue // skip captures without a final separator
			}
			stream = append(stream, f...)
		}
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(stream))
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

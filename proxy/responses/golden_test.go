package responses

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

// testAliases maps the model names of the Codex captures to Gemini models,
// as a user of Codex sets them up.
var testAliases = map[string]string{
	"gpt-5.5":     "gemini-2.5-flash",
	"gpt-6-astra": "gemini-3-pro-preview",
}

// fakePNG is a 1×1 PNG, what the fake image fetcher serves.
var fakePNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

func fakeFetch(_ context.Context, url string) (*gemini.Blob, error) {
	if url == "https://example.com/cat.png" {
		return &gemini.Blob{MIMEType: "image/png", Data: base64.StdEncoding.EncodeToString(fakePNG)}, nil
	}
	return nil, errors.New("HTTP 404 Not Found")
}

func testOptions() RequestOptions {
	return RequestOptions{Aliases: testAliases, FetchImage: fakeFetch}
}

func testMeta(tools map[string]ToolRef) ResponseMeta {
	return ResponseMeta{Model: "test-model", Created: 1700000000, NewID: golden.IDs(), Tools: tools}
}

// sseData returns the data of each event of an SSE capture.
func sseData(stream []byte) [][]byte {
	var out [][]byte
	for _, ev := range bytes.Split(bytes.ReplaceAll(stream, []byte("\r\n"), []byte("\n")), []byte("\n\n")) {
		var data []byte
		for _, line := range bytes.Split(ev, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				data = append(data, bytes.TrimPrefix(d, []byte(" "))...)
			}
		}
		if len(data) > 0 {
			out = append(out, data)
		}
	}
	return out
}

// TestGoldenRequests translates hand-written requests and real Codex CLI
// 0.169 requests (testdata/codex, recorded against a local recorder with
// three model names, whose shapes differ) and compares the Gemini request.
func TestGoldenRequests(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/request/*.json")
	codex, _ := filepath.Glob("testdata/codex/request.*.json")
	var cases []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".gemini.golden.json") {
			cases = append(cases, f)
		}
	}
	cases = append(cases, codex...)
	if len(cases) < 8 {
		t.Fatalf("only %d request cases found", len(cases))
	}
	for _, f := range cases {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if strings.HasPrefix(f, "testdata/codex/") {
			name = "codex-" + strings.TrimPrefix(name, "request.")
		}
		t.Run(name, func(t *testing.T) {
			req, err := ParseRequest(golden.Read(t, f))
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			tr, err := ToGemini(context.Background(), req, testOptions())
			if err != nil {
				t.Fatalf("ToGemini: %v", err)
			}
			var echo any
			if err := json.Unmarshal(append(append([]byte("{"), tr.Meta.Echo...), '}'), &echo); err != nil {
				t.Fatalf("echo is not valid JSON: %v\n%s", err, tr.Meta.Echo)
			}
			golden.CheckJSON(t, "testdata/golden/request/"+name+".gemini.golden.json", map[string]any{
				"model": tr.Model, "stream": tr.Stream, "store": tr.Store, "notes": tr.Notes,
				"tools": tr.Meta.Tools, "body": tr.Body,
			})
		})
	}
}

// TestGoldenResponses translates real generateContent answers.
func TestGoldenResponses(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/*.json")
	if len(files) < 5 {
		t.Fatalf("only %d fixtures", len(files))
	}
	tools := map[string]ToolRef{"now": {Kind: "function", Namespace: "clock", Name: "now"}}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			resp, err := FromGeminiJSON(golden.Read(t, f), testMeta(tools))
			if err != nil {
				t.Fatal(err)
			}
			golden.CheckJSON(t, "testdata/golden/response/"+name+".golden.json", resp)
		})
	}
}

// goldenEvent is one stream event as the golden files show it.
type goldenEvent struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

func streamEvents(t *testing.T, st *StreamTranslator, chunks [][]byte) []goldenEvent {
	t.Helper()
	var out []goldenEvent
	add := func(evs []Event) {
		for i := range evs {
			sse := evs[i].AppendSSE(nil)
			typ, data, ok := parseSSE(sse)
			if !ok || typ != evs[i].Type {
				t.Fatalf("bad SSE framing: %q", sse)
			}
			if !json.Valid(data) {
				t.Fatalf("event data is not JSON: %s", data)
			}
			out = append(out, goldenEvent{Event: typ, Data: data})
		}
	}
	for _, c := range chunks {
		evs, err := st.Translate(c)
		if err != nil {
			t.Fatal(err)
		}
		add(evs)
	}
	add(st.Finish())
	return out
}

func parseSSE(b []byte) (typ string, data []byte, ok bool) {
	s := string(b)
	if !strings.HasSuffix(s, "\n\n") {
		return "", nil, false
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "event: ") || !strings.HasPrefix(lines[1], "data: ") {
		return "", nil, false
	}
	return strings.TrimPrefix(lines[0], "event: "), []byte(strings.TrimPrefix(lines[1], "data: ")), true
}

// TestGoldenStreams translates real SSE captures into Responses events and
// checks the invariants every client relies on besides the golden bytes:
// sequence numbers count from 0 without gaps, response.created comes first,
// exactly one terminal event comes last, every item added is done once.
func TestGoldenStreams(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/*.txt")
	if len(files) < 5 {
		t.Fatalf("only %d fixtures", len(files))
	}
	tools := map[string]ToolRef{"now": {Kind: "function", Namespace: "clock", Name: "now"}}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			events := streamEvents(t, NewStreamTranslator(testMeta(tools)), sseData(golden.Read(t, f)))
			checkStreamInvariants(t, events)
			golden.CheckJSON(t, "testdata/golden/stream/"+name+".golden.json", events)
		})
	}
}

func checkStreamInvariants(t *testing.T, events []goldenEvent) {
	t.Helper()
	if len(events) < 3 || events[0].Event != "response.created" || events[1].Event != "response.in_progress" {
		t.Fatalf("stream must start with response.created, response.in_progress: %v", eventNames(events))
	}
	added := map[int]bool{}
	for i, ev := range events {
		var d struct {
			Type        string `json:"type"`
			Seq         *int   `json:"sequence_number"`
			OutputIndex int    `json:"output_index"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Type != ev.Event || d.Seq == nil || *d.Seq != i {
			t.Errorf("event %d: type %q sequence_number %v, want %q and %d", i, d.Type, d.Seq, ev.Event, i)
		}
		terminal := ev.Event == "response.completed" || ev.Event == "response.incomplete" || ev.Event == "response.failed"
		if terminal != (i == len(events)-1) {
			t.Errorf("event %d %s: the terminal event must be the last and only one", i, ev.Event)
		}
		switch ev.Event {
		case "response.output_item.added":
			if added[d.OutputIndex] {
				t.Errorf("output_index %d added twice", d.OutputIndex)
			}
			added[d.OutputIndex] = true
		case "response.output_item.done":
			if !added[d.OutputIndex] {
				t.Errorf("output_index %d done before added (or twice)", d.OutputIndex)
			}
			delete(added, d.OutputIndex)
		}
	}
	if len(added) > 0 {
		t.Errorf("items added but never done: %v", added)
	}
}

func eventNames(events []goldenEvent) []string {
	var s []string
	for _, e := range events {
		s = append(s, e.Event)
	}
	return s
}

var _ = gemini.SkipThoughtSignature

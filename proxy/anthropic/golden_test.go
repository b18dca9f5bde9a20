package anthropic

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/gemini"
	"github.com/gemini-balance/desktop/proxy/internal/golden"
)

// fakePNG is what the fake fetcher serves for https://example.com/cat.png.
var fakePNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func fakeFetch(_ context.Context, url string) (*gemini.Blob, error) {
	if url == "https://example.com/cat.png" {
		return &gemini.Blob{MIMEType: "image/png", Data: base64.StdEncoding.EncodeToString(fakePNG)}, nil
	}
	return nil, errors.New("HTTP 404 Not Found")
}

func testOptions() Options {
	return Options{
		ResolveModel: func(name string) (string, error) {
			if name == "claude-sonnet-4-5" {
				return "gemini-2.5-flash", nil
			}
			return name, nil
		},
		Fetch: fakeFetch,
	}
}

func testMeta() Meta { return Meta{Model: "claude-test", NewID: golden.Counter()} }

// TestGoldenRequests translates the hand-written requests in
// testdata/golden/request and the real Claude Code captures in
// testdata/claude-code.
func TestGoldenRequests(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/golden/request/*.json")
	cc, _ := filepath.Glob("testdata/claude-code/*.json")
	inputs = append(inputs, cc...)
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		if strings.Contains(in, "claude-code") {
			name = "claude-code." + name
		}
		t.Run(name, func(t *testing.T) {
			req, err := ParseRequest(golden.Read(t, in))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := ToGemini(context.Background(), req, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata/golden/request", name+".gemini.golden.json"), golden.Indent(t, tr))
		})
	}
	if n < 5 {
		t.Fatalf("only %d request cases", n)
	}
}

// TestGoldenResponses translates every captured generateContent answer.
func TestGoldenResponses(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/*.json")
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "error.") {
			continue
		}
		t.Run(base, func(t *testing.T) {
			resp, err := FromGeminiJSON(golden.Read(t, f), testMeta())
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata/golden/response", strings.TrimSuffix(base, ".json")+".golden.json"), golden.Indent(t, resp))
		})
	}
}

// sseData returns the data of each event of an SSE capture.
func sseData(raw []byte) [][]byte {
	var out [][]byte
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			out = append(out, bytes.TrimSpace(d))
		}
	}
	return out
}

// streamOf translates a whole SSE capture.
func streamOf(t *testing.T, raw []byte, meta Meta) []byte {
	t.Helper()
	st := NewStreamTranslator(meta)
	var out []byte
	for _, d := range sseData(raw) {
		var err error
		if out, err = st.Translate(out, d); err != nil {
			t.Fatal(err)
		}
	}
	return st.Finish(out)
}

// TestGoldenStreams translates every captured stream; the golden files are
// the exact bytes the client gets.
func TestGoldenStreams(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/*.sse.txt")
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			got := streamOf(t, golden.Read(t, f), testMeta())
			golden.Check(t, filepath.Join("testdata/golden/stream", strings.TrimSuffix(base, ".sse.txt")+".golden.sse"), got)
		})
	}
}

// TestGoldenErrors maps Google's captured error answers.
func TestGoldenErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/gemini/error.*.json")
	var got []any
	for _, f := range files {
		var status int
		fmt.Sscanf(strings.TrimPrefix(filepath.Base(f), "error."), "%d", &status)
		e := FromGeminiError(status, golden.Read(t, f))
		b, _ := e.MarshalJSON()
		got = append(got, map[string]any{"fixture": filepath.Base(f), "status": e.Status, "body": json.RawMessage(b)})
	}
	if len(got) == 0 {
		t.Fatal("no error fixtures")
	}
	golden.Check(t, "testdata/golden/response/errors.golden.json", golden.Indent(t, got))
}

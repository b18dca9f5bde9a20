package responses

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gemini-balance/desktop/proxy/openai"
)

// FuzzToGemini feeds arbitrary bodies to the request translator: it must
// never panic, reject only with a 400 *openai.Error, and produce a body that
// encodes to JSON whenever it accepts.
func FuzzToGemini(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/golden/request/*.json")
	codex, _ := filepath.Glob("testdata/codex/*.json")
	for _, s := range append(seeds, codex...) {
		if b, err := os.ReadFile(s); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"model":"m","input":[{"type":"reasoning","encrypted_content":"gbd1.Y2FsbF8x.c2ln"},{"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"call_1","output":[{"type":"input_text","text":"x"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseRequest(body)
		if err == nil {
			var tr *Translated
			tr, err = ToGemini(context.Background(), req, RequestOptions{Aliases: testAliases, Store: NewStore(StoreOptions{})})
			if err == nil {
				if _, err := json.Marshal(tr.Body); err != nil {
					t.Fatalf("body does not encode: %v", err)
				}
				if !json.Valid(append(append([]byte("{"), tr.Meta.Echo...), '}')) {
					t.Fatalf("echo is not JSON: %s", tr.Meta.Echo)
				}
				return
			}
		}
		var e *openai.Error
		if !errors.As(err, &e) || e.Status != 400 {
			t.Fatalf("error %v (%T), want a 400 *openai.Error", err, err)
		}
	})
}

package openai

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzToGemini: no input panics ParseChatRequest + ToGemini, and every
// rejection is an *Error with status 400 and a message.
func FuzzToGemini(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/request/*.json")
	for _, file := range files {
		if strings.HasSuffix(file, ".golden.json") {
			continue
		}
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"model":"m","messages":[{}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:,"}]}]}`,
		`{"model":"m","messages":[{"role":"tool","tool_call_id":"x"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"allOf":[{"$ref":"#/definitions/a"}],"definitions":{"a":{"const":1}}}}}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"items":[{"$ref":"#"}],"properties":{"a":{"allOf":[{}]}}}}}]}`,
	} {
		f.Add([]byte(s))
	}
	opts := RequestOptions{Aliases: testAliases, FetchImage: fakeFetch}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseChatRequest(data)
		if err == nil {
			_, err = ToGemini(context.Background(), req, opts)
		}
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v, want *Error", err, err)
		}
		if e.Status != 400 || e.Message == "" {
			t.Fatalf("error %+v, want status 400 and a message", e)
		}
	})
}

package e2etest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestGenAISmoke runs genai-smoke.mjs (the official @google/genai client) against a fake
// Gemini endpoint that answers with a real captured generateContent body.
func TestGenAISmoke(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "generateContent.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var gotPath, gotKey, gotQueryKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		gotPath, gotKey, gotQueryKey = r.URL.Path, r.Header.Get("x-goog-api-key"), r.URL.Query().Get("key")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()

	out := RunNode(t, "genai-smoke.mjs", map[string]string{
		"BASE_URL": srv.URL,
		"API_KEY":  "local-access-key",
		"MODEL":    "gemini-2.5-flash",
	})
	var res struct {
		Text         string `json:"text"`
		FinishReason string `json:"finishReason"`
		Usage        struct {
			Total int `json:"totalTokenCount"`
		} `json:"usageMetadata"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("genai-smoke.mjs output %q: %v", out, err)
	}
	if !strings.Contains(res.Text, "Mountain View") || res.FinishReason != "STOP" || res.Usage.Total != 29 {
		t.Errorf("genai-smoke.mjs = %+v, want the fixture's text, STOP and 29 tokens", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "/v1beta/models/gemini-2.5-flash:generateContent"; gotPath != want {
		t.Errorf("request path = %q, want %q", gotPath, want)
	}
	if gotKey != "local-access-key" || gotQueryKey != "" {
		t.Errorf("request key header %q, ?key= %q; want header %q and no query key", gotKey, gotQueryKey, "local-access-key")
	}
}

// TestTryNodeFailure checks that a failing client is reported, not fatal, with its output.
func TestTryNodeFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":401,"message":"wrong access key","status":"UNAUTHENTICATED"}}`)
	}))
	defer srv.Close()
	r := TryNode(t, "genai-smoke.mjs", map[string]string{"BASE_URL": srv.URL, "API_KEY": "wrong"})
	if r.Err == nil {
		t.Fatalf("TryNode(genai-smoke.mjs) against a 401 = nil error, want exit status 1; stdout %s", r.Stdout)
	}
	if !strings.Contains(string(r.Stdout), `"status":401`) {
		t.Errorf("TryNode(genai-smoke.mjs) stdout = %s, want the 401 status", r.Stdout)
	}
}

func TestDir(t *testing.T) {
	d := Dir(t)
	if !strings.HasSuffix(filepath.ToSlash(d), "build/e2e") {
		t.Errorf("Dir() = %q, want …/build/e2e", d)
	}
}

package proxy

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gemini-balance/desktop/proxy/proxytest"
)

const chatBody = `{"model":"gemini-2.5-flash","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}`

func (e *env) openAI(method, path, body string) (*http.Response, []byte) {
	e.t.Helper()
	return e.doWith(method, path, body, map[string]string{"Authorization": "Bearer " + e.accessKey})
}

func TestOpenAIChat(t *testing.T) {
	e := newEnv(t, 2)
	for _, path := range []string{"/v1/chat/completions", "/chat/completions", "/v1beta/openai/chat/completions"} {
		resp, body := e.openAI("POST", path, chatBody)
		e.wantStatus(resp, body, 200)
		var out struct {
			Object  string `json:"object"`
			Model   string `json:"model"`
			Choices []struct {
				Message struct {
					Role    string `json:"role"`
					Content string `json:"content"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
		if out.Object != "chat.completion" || len(out.Choices) != 1 || out.Choices[0].Message.Content == "" ||
			out.Choices[0].FinishReason != "stop" || out.Usage.TotalTokens == 0 || out.Model != "gemini-2.5-flash" {
			t.Errorf("%s: answer = %s", path, body)
		}
	}
	reqs := e.fake.Requests()
	var sent map[string]any
	if err := json.Unmarshal(reqs[0].Body, &sent); err != nil {
		t.Fatal(err)
	}
	if _, ok := sent["systemInstruction"]; !ok || reqs[0].Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("upstream got %s %s", reqs[0].Path, reqs[0].Body)
	}
}

func TestOpenAIRotation(t *testing.T) {
	e := newEnv(t, 2)
	e.fake.ScriptAll(proxytest.RateLimited("20s"))
	resp, body := e.openAI("POST", "/v1/chat/completions", chatBody)
	e.wantStatus(resp, body, 200)
	if n := len(e.fake.Requests()); n != 2 {
		t.Errorf("upstream requests = %d, want 2", n)
	}
}

func TestOpenAIErrorsKeepStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		step   proxytest.Step
		status int
		typ    string
	}{
		{"429", proxytest.Always(proxytest.RateLimited("20s")), 429, "rate_limit_error"},
		{"404", proxytest.ModelNotFound(), 404, "not_found_error"},
		{"503", proxytest.Always(proxytest.Unavailable()), 503, "server_error"},
		{"500", proxytest.Always(proxytest.Internal()), 500, "server_error"},
		{"400 region", proxytest.RegionRefused(), 400, "invalid_request_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 1)
			e.fake.ScriptAll(tc.step)
			resp, body := e.openAI("POST", "/v1/chat/completions", chatBody)
			e.wantStatus(resp, body, tc.status)
			var out struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &out); err != nil || out.Error.Message == "" || out.Error.Type != tc.typ {
				t.Errorf("body = %s, want an OpenAI error of type %s", body, tc.typ)
			}
			if tc.status == 429 && resp.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		})
	}
}

func TestOpenAIBadRequest(t *testing.T) {
	e := newEnv(t, 1)
	for _, body := range []string{`{`, `{"model":"gemini-2.5-flash"}`, `{"model":"gemini-2.5-flash","messages":"hi"}`, `[]`} {
		resp, got := e.openAI("POST", "/v1/chat/completions", body)
		e.wantStatus(resp, got, 400)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("upstream requests = %d, want 0", n)
	}
	resp, body := e.doWith("POST", "/v1/chat/completions", chatBody, nil)
	e.wantStatus(resp, body, 401)
	if !strings.Contains(string(body), "authentication_error") {
		t.Errorf("401 body = %s", body)
	}
}

// readSSE returns the data of each event of an OpenAI stream.
func readSSE(t *testing.T, r io.Reader) ([]string, error) {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out, sc.Err()
}

func TestOpenAIStream(t *testing.T) {
	e := newEnv(t, 1)
	resp, body := e.openAI("POST", "/v1/chat/completions", `{"model":"gemini-2.5-flash","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}`)
	e.wantStatus(resp, body, 200)
	events, err := readSSE(t, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 4 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("events = %q", events)
	}
	var first, usage struct {
		Choices []struct {
			Delta struct {
				Role string `json:"role"`
			} `json:"delta"`
		} `json:"choices"`
		Usage *struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	json.Unmarshal([]byte(events[0]), &first)
	json.Unmarshal([]byte(events[len(events)-2]), &usage)
	if len(first.Choices) != 1 || first.Choices[0].Delta.Role != "assistant" {
		t.Errorf("first chunk = %s, want the role chunk", events[0])
	}
	if len(usage.Choices) != 0 || usage.Usage == nil || usage.Usage.TotalTokens == 0 {
		t.Errorf("last chunk before [DONE] = %s, want the usage chunk", events[len(events)-2])
	}
	reqs := e.fake.Requests()
	if reqs[0].Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || !strings.Contains(reqs[0].RawQuery, "alt=sse") {
		t.Errorf("upstream call = %s?%s", reqs[0].Path, reqs[0].RawQuery)
	}
}

func TestOpenAIStreamFailureEndsWithErrorEvent(t *testing.T) {
	e := newEnv(t, 2)
	e.fake.ScriptAll(proxytest.StreamFailAfter(1))
	resp, body := e.openAI("POST", "/v1/chat/completions", `{"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"Hi"}]}`)
	e.wantStatus(resp, body, 200)
	events, _ := readSSE(t, strings.NewReader(string(body)))
	if len(events) == 0 {
		t.Fatal("no events")
	}
	last := events[len(events)-1]
	if last == "[DONE]" || !strings.Contains(last, `"error"`) {
		t.Errorf("last event = %s, want an error event and no [DONE]", last)
	}
	for _, ev := range events {
		if ev == "[DONE]" {
			t.Errorf("[DONE] after a broken stream")
		}
	}
}

func TestOpenAIEmbeddings(t *testing.T) {
	e := newEnv(t, 1)
	resp, body := e.openAI("POST", "/v1/embeddings", `{"model":"text-embedding-004","input":["a","b"],"dimensions":8}`)
	e.wantStatus(resp, body, 200)
	var out struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
			Index     int       `json:"index"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Data) != 2 || len(out.Data[1].Embedding) != 8 || out.Data[1].Index != 1 {
		t.Fatalf("float answer = %s", body)
	}
	resp, body = e.openAI("POST", "/v1/embeddings", `{"model":"text-embedding-004","input":"a","encoding_format":"base64","dimensions":8}`)
	e.wantStatus(resp, body, 200)
	var b64 struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &b64); err != nil || len(b64.Data) != 1 {
		t.Fatalf("base64 answer = %s", body)
	}
	raw, err := base64.StdEncoding.DecodeString(b64.Data[0].Embedding)
	if err != nil || len(raw) != 8*4 {
		t.Errorf("base64 embedding decodes to %d bytes (%v), want 32", len(raw), err)
	}
}

func TestOpenAIModels(t *testing.T) {
	e := newEnv(t, 1)
	resp, body := e.openAI("GET", "/v1/models", "")
	e.wantStatus(resp, body, 200)
	var out struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Object != "list" || len(out.Data) < 2 {
		t.Fatalf("answer = %s", body)
	}
	for _, m := range out.Data {
		if strings.HasPrefix(m.ID, "models/") || m.OwnedBy != "google" {
			t.Errorf("model %+v", m)
		}
	}
	if pages := len(e.fake.Requests()); pages < 2 {
		t.Errorf("upstream pages fetched = %d, want every page (≥ 2)", pages)
	}
	// The same path with a Gemini-style key is the native API.
	resp, body = e.do("GET", "/v1/models", "")
	e.wantStatus(resp, body, 200)
	if !strings.Contains(string(body), `"models"`) {
		t.Errorf("GET /v1/models with x-goog-api-key did not get the native answer: %.200s", body)
	}
	resp, body = e.openAI("GET", "/v1/models/gemini-2.5-flash", "")
	e.wantStatus(resp, body, 200)
	if !strings.Contains(string(body), `"id":"gemini-2.5-flash"`) {
		t.Errorf("model = %s", body)
	}
}

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The first-run walkthrough's last step: one real request through the
// proxy, as a client would send it (the access key, the Gemini route), so
// that the user sees either an answer or, in plain words, why there is
// none.

// TestRequestModel is the model of the test request when none is given.
const TestRequestModel = "gemini-2.5-flash"

// testRequestTimeout bounds the test request.
const testRequestTimeout = 60 * time.Second

// Reasons of a failed test request.
const (
	TestOK           = "ok"
	TestNotRunning   = "not_running"   // the proxy is not serving
	TestPaused       = "paused"        // the proxy is paused
	TestPassthrough  = "passthrough"   // passthrough mode needs the client's own key
	TestNoKeys       = "no_keys"       // the pool is empty
	TestNoUsableKey  = "no_usable_key" // every key is cooling down or dead
	TestRegion       = "region"        // Google refuses this network's location
	TestInvalidKey   = "invalid_key"   // the key(s) were refused as invalid
	TestUpstream     = "upstream"      // another answer from Google
	TestNetwork      = "network"       // Google could not be reached
	TestRequestError = "error"         // anything else
)

// TestResult is what a test request showed.
type TestResult struct {
	OK bool `json:"ok"`
	// Reason is one of the Test* codes (the UI words it in the user's
	// language); Message is the proxy's own text.
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
	Status  int    `json:"status,omitempty"`
	Model   string `json:"model"`
	// Dialect is the API the request spoke (gemini, openai, responses,
	// anthropic).
	Dialect   string `json:"dialect"`
	Text      string `json:"text,omitempty"`
	LatencyMS int64  `json:"latencyMs"`
}

// testPrompt is what the test request asks.
const testPrompt = "Reply with one short friendly sentence to confirm you work."

// testCall is how a dialect asks the test request and reads its answer.
type testCall struct {
	path string
	body string
	auth func(h http.Header, key string)
	// text returns the answer's text (thoughts left out), or the stop
	// reason when it has none.
	text func(data []byte) (string, error)
}

func testCallFor(dialect, model string) testCall {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	bearer := func(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) }
	switch dialect {
	case DialectOpenAI:
		return testCall{
			path: "/v1/chat/completions",
			body: `{"model":` + q(model) + `,"max_tokens":64,"messages":[{"role":"user","content":` + q(testPrompt) + `}]}`,
			auth: bearer,
			text: func(data []byte) (string, error) {
				var ans struct {
					Choices []struct {
						Message struct {
							Content string `json:"content"`
						} `json:"message"`
						FinishReason string `json:"finish_reason"`
					} `json:"choices"`
				}
				if err := json.Unmarshal(data, &ans); err != nil || len(ans.Choices) == 0 {
					return "", fmt.Errorf("no choices in the answer (%v)", err)
				}
				return orReason(ans.Choices[0].Message.Content, ans.Choices[0].FinishReason), nil
			},
		}
	case DialectResponses:
		return testCall{
			path: "/v1/responses",
			body: `{"model":` + q(model) + `,"max_output_tokens":64,"store":false,"input":` + q(testPrompt) + `}`,
			auth: bearer,
			text: func(data []byte) (string, error) {
				var ans struct {
					Status string `json:"status"`
					Output []struct {
						Type    string `json:"type"`
						Content []struct {
							Type string `json:"type"`
							Text string `json:"text"`
						} `json:"content"`
					} `json:"output"`
				}
				if err := json.Unmarshal(data, &ans); err != nil {
					return "", err
				}
				var b strings.Builder
				for _, o := range ans.Output {
					for _, c := range o.Content {
						if o.Type == "message" && c.Type == "output_text" {
							b.WriteString(c.Text)
						}
					}
				}
				return orReason(b.String(), ans.Status), nil
			},
		}
	case DialectAnthropic:
		return testCall{
			path: "/v1/messages",
			body: `{"model":` + q(model) + `,"max_tokens":64,"messages":[{"role":"user","content":` + q(testPrompt) + `}]}`,
			auth: func(h http.Header, key string) {
				h.Set("x-api-key", key)
				h.Set("anthropic-version", "2023-06-01")
			},
			text: func(data []byte) (string, error) {
				var ans struct {
					Content []struct {
						Type string `json:"type"`
						Text string `json:"text"`
					} `json:"content"`
					StopReason string `json:"stop_reason"`
				}
				if err := json.Unmarshal(data, &ans); err != nil {
					return "", err
				}
				var b strings.Builder
				for _, c := range ans.Content {
					if c.Type == "text" {
						b.WriteString(c.Text)
					}
				}
				return orReason(b.String(), ans.StopReason), nil
			},
		}
	}
	return testCall{
		path: "/v1beta/models/" + model + ":generateContent",
		body: `{"contents":[{"role":"user","parts":[{"text":` + q(testPrompt) + `}]}],"generationConfig":{"maxOutputTokens":64}}`,
		auth: func(h http.Header, key string) { h.Set("x-goog-api-key", key) },
		text: func(data []byte) (string, error) {
			var ans struct {
				Candidates []struct {
					Content struct {
						Parts []struct {
							Text    string `json:"text"`
							Thought bool   `json:"thought"`
						} `json:"parts"`
					} `json:"content"`
					FinishReason string `json:"finishReason"`
				} `json:"candidates"`
			}
			if err := json.Unmarshal(data, &ans); err != nil {
				return "", err
			}
			var b strings.Builder
			for _, c := range ans.Candidates {
				for _, p := range c.Content.Parts {
					if !p.Thought {
						b.WriteString(p.Text)
					}
				}
			}
			reason := ""
			if len(ans.Candidates) > 0 {
				reason = ans.Candidates[0].FinishReason
			}
			return orReason(b.String(), reason), nil
		},
	}
}

// orReason is text, or (reason) when there is no text.
func orReason(text, reason string) string {
	if t := strings.TrimSpace(text); t != "" {
		return t
	}
	if reason == "" {
		return ""
	}
	return "(" + reason + ")"
}

// TestRequest sends one short request through the running proxy in the
// given dialect ("" is native Gemini) with the access key, as a client
// does, and says what came back.
func (a *App) TestRequest(ctx context.Context, model, dialect string) TestResult {
	if model == "" {
		model = TestRequestModel
	}
	if dialect == "" {
		dialect = DialectGemini
	}
	res := TestResult{Model: model, Dialect: dialect}
	st := a.Status()
	switch {
	case !st.Running:
		res.Reason, res.Message = TestNotRunning, st.Error
		return res
	case st.Paused:
		res.Reason = TestPaused
		return res
	case st.Passthrough:
		// The proxy would send the access key to Google as if it were a
		// Gemini key: never.
		res.Reason = TestPassthrough
		return res
	case st.Keys.Total == 0:
		res.Reason = TestNoKeys
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, testRequestTimeout)
	defer cancel()
	call := testCallFor(dialect, model)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.GeminiBaseURL+call.path, strings.NewReader(call.body))
	if err != nil {
		res.Reason, res.Message = TestRequestError, err.Error()
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	call.auth(req.Header, a.AccessKey())
	start := time.Now()
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	res.LatencyMS = time.Since(start).Milliseconds()
	if err != nil {
		res.Reason, res.Message = TestRequestError, err.Error()
		return res
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	res.Status = resp.StatusCode
	if resp.StatusCode == http.StatusOK {
		text, err := call.text(data)
		if err != nil {
			res.Reason, res.Message = TestUpstream, "the answer could not be read: "+err.Error()
			return res
		}
		res.OK, res.Reason, res.Text = true, TestOK, text
		return res
	}
	var e struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil {
		res.Message = e.Error.Message
	}
	if res.Message == "" {
		res.Message = strings.TrimSpace(string(bytes.ToValidUTF8(data, nil)))
	}
	low := strings.ToLower(res.Message)
	switch {
	case strings.Contains(low, "location") && strings.Contains(low, "not supported"), strings.Contains(low, "network's location"):
		res.Reason = TestRegion
	case strings.Contains(low, "api key not valid"), strings.Contains(low, "api_key_invalid"), strings.Contains(low, "api key expired"):
		res.Reason = TestInvalidKey
	case resp.StatusCode == http.StatusTooManyRequests && strings.Contains(low, "no usable api key"):
		res.Reason = TestNoUsableKey
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout:
		res.Reason = TestNetwork
	default:
		res.Reason = TestUpstream
	}
	return res
}

// apiTestRequest is POST /api/test-request {"model"?: "...", "dialect"?:
// "gemini"|"openai"|"responses"|"anthropic"}.
func (a *App) apiTestRequest(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Model   string `json:"model"`
		Dialect string `json:"dialect"`
	}
	if err := decodeOptionalBody(w, r, &in); err != nil {
		return err
	}
	if in.Model != "" && (len(in.Model) > 100 || strings.ContainsAny(in.Model, "/?#:% ")) {
		return fieldError("model", "model %q: use a model name such as %s", in.Model, TestRequestModel)
	}
	if in.Dialect != "" && !slices.Contains(dialects, in.Dialect) {
		return fieldError("dialect", "dialect %q: use one of %s", in.Dialect, strings.Join(dialects, ", "))
	}
	return answer(w, a.TestRequest(r.Context(), in.Model, in.Dialect))
}

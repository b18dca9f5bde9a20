package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
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
	Reason    string `json:"reason"`
	Message   string `json:"message,omitempty"`
	Status    int    `json:"status,omitempty"`
	Model     string `json:"model"`
	Text      string `json:"text,omitempty"`
	LatencyMS int64  `json:"latencyMs"`
}

// TestRequest sends one short generateContent request through the running
// proxy with the access key, as a client does, and says what came back.
func (a *App) TestRequest(ctx context.Context, model string) TestResult {
	if model == "" {
		model = TestRequestModel
	}
	res := TestResult{Model: model}
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
	body := `{"contents":[{"role":"user","parts":[{"text":"Reply with one short friendly sentence to confirm you work."}]}],"generationConfig":{"maxOutputTokens":64}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.GeminiBaseURL+"/v1beta/models/"+model+":generateContent", strings.NewReader(body))
	if err != nil {
		res.Reason, res.Message = TestRequestError, err.Error()
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-goog-api-key", a.AccessKey())
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
			res.Reason, res.Message = TestUpstream, "the answer is not JSON: "+err.Error()
			return res
		}
		var b strings.Builder
		for _, c := range ans.Candidates {
			for _, p := range c.Content.Parts {
				if !p.Thought {
					b.WriteString(p.Text)
				}
			}
		}
		res.OK, res.Reason, res.Text = true, TestOK, strings.TrimSpace(b.String())
		if res.Text == "" && len(ans.Candidates) > 0 {
			res.Text = "(" + ans.Candidates[0].FinishReason + ")"
		}
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

// apiTestRequest is POST /api/test-request {"model"?: "..."}.
func (a *App) apiTestRequest(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Model string `json:"model"`
	}
	if err := decodeOptionalBody(w, r, &in); err != nil {
		return err
	}
	if in.Model != "" && (len(in.Model) > 100 || strings.ContainsAny(in.Model, "/?#:% ")) {
		return fieldError("model", "model %q: use a model name such as %s", in.Model, TestRequestModel)
	}
	return answer(w, a.TestRequest(r.Context(), in.Model))
}

package openai

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// ResponseMeta is what a translated answer takes from outside the Gemini
// body.
type ResponseMeta struct {
	// ID is the chat completion id. Empty: "chatcmpl-" + Gemini's
	// responseId, or a fresh id when there is none.
	ID string
	// Model is the model name to report (usually the one the client asked
	// for). Empty: Gemini's modelVersion.
	Model string
	// Created is the Unix time to report.
	Created int64
	// NewID returns a fresh random id; tool call ids are "call_" + NewID().
	// nil: 24 random alphanumerics. Tests inject a deterministic one.
	NewID func() string
	// Signatures, when set, records the thought signature of every tool
	// call returned, so ToGemini can restore it for clients that replay the
	// call without extra_content. nil: nothing is recorded.
	Signatures *SignatureCache
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomID() string {
	var b [24]byte
	for i := range b {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b[:])
}

func (m *ResponseMeta) newID() string {
	if m.NewID != nil {
		return m.NewID()
	}
	return randomID()
}

func (m *ResponseMeta) completionID(responseID string) string {
	switch {
	case m.ID != "":
		return m.ID
	case responseID != "":
		return "chatcmpl-" + responseID
	default:
		return "chatcmpl-" + m.newID()
	}
}

func (m *ResponseMeta) model(modelVersion string) string {
	if m.Model != "" {
		return m.Model
	}
	return modelVersion
}

// FinishReason maps a Gemini finishReason to OpenAI's. hasToolCalls wins over
// everything: the client must run the calls.
func FinishReason(geminiReason string, hasToolCalls bool) string {
	if hasToolCalls {
		return "tool_calls"
	}
	switch geminiReason {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return "content_filter"
	default:
		return "stop"
	}
}

// FromGeminiJSON decodes a generateContent body and translates it. A body
// that is not a Gemini answer is a 502 *Error.
func FromGeminiJSON(body []byte, meta ResponseMeta) (*ChatCompletion, error) {
	var ev wireEvent
	if decodeAnswer(body, &ev) != nil {
		var resp gemini.GenerateContentResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			return nil, &Error{Status: http.StatusBadGateway, Type: "server_error", Message: "the upstream answer is not valid JSON: " + err.Error()}
		}
		return FromGemini(&resp, meta), nil
	}
	return FromGemini(&ev.GenerateContentResponse, meta), nil
}

// FromGemini translates a generateContent answer into a chat completion:
// one choice per candidate.
func FromGemini(resp *gemini.GenerateContentResponse, meta ResponseMeta) *ChatCompletion {
	out := &ChatCompletion{
		ID:      meta.completionID(resp.ResponseID),
		Object:  "chat.completion",
		Created: meta.Created,
		Model:   meta.model(resp.ModelVersion),
		Choices: make([]Choice, 0, max(1, len(resp.Candidates))),
	}
	for i := range resp.Candidates {
		out.Choices = append(out.Choices, choiceOf(&resp.Candidates[i], &meta))
	}
	if len(resp.Candidates) == 0 {
		empty := ""
		ch := Choice{Message: AssistantMessage{Role: "assistant", Content: &empty}, FinishReason: "stop"}
		if r := promptBlockRefusal(resp.PromptFeedback); r != "" {
			ch.FinishReason = "content_filter"
			ch.Message.Refusal = r
		}
		out.Choices = append(out.Choices, ch)
	}
	if resp.UsageMetadata != nil {
		out.Usage = UsageFrom(resp.UsageMetadata)
	} else {
		out.Usage = &Usage{} // OpenAI always reports usage on a completion
	}
	return out
}

// promptBlockRefusal explains a blocked prompt, or "" when it was not.
func promptBlockRefusal(pf *gemini.PromptFeedback) string {
	if pf == nil || (pf.BlockReason == "" && pf.BlockReasonMessage == "") {
		return ""
	}
	s := "The prompt was blocked by Gemini"
	if pf.BlockReason != "" {
		s += " (blockReason " + pf.BlockReason + ")"
	}
	if pf.BlockReasonMessage != "" {
		s += ": " + pf.BlockReasonMessage
	}
	return s
}

// candidateRefusal explains a candidate that was filtered with nothing to
// show.
func candidateRefusal(c *gemini.Candidate) string {
	s := "The response was blocked by Gemini (finishReason " + c.FinishReason + ")"
	if c.FinishMessage != "" {
		s += ": " + c.FinishMessage
	}
	return s
}

func choiceOf(c *gemini.Candidate, meta *ResponseMeta) Choice {
	var text, reasoning strings.Builder
	var calls []ToolCall
	if c.Content != nil {
		for i := range c.Content.Parts {
			p := &c.Content.Parts[i]
			if p.FunctionCall != nil {
				calls = append(calls, toolCallOf(p, meta))
				continue
			}
			if p.Thought {
				reasoning.WriteString(p.Text)
				continue
			}
			appendVisible(&text, p)
		}
	}
	ch := Choice{
		Index:        c.Index,
		Message:      AssistantMessage{Role: "assistant", ReasoningContent: reasoning.String(), ToolCalls: calls},
		FinishReason: FinishReason(c.FinishReason, len(calls) > 0),
		Logprobs:     logprobsOf(c.LogprobsResult),
	}
	if text.Len() > 0 || len(calls) == 0 {
		s := text.String()
		ch.Message.Content = &s
	}
	if ch.FinishReason == "content_filter" && text.Len() == 0 {
		ch.Message.Refusal = candidateRefusal(c)
	}
	return ch
}

// appendVisible appends what a non-thought part shows in content. Text is
// copied unchanged; generated images and code execution, which have no
// OpenAI field, are rendered as Markdown so they are not lost.
func appendVisible(b *strings.Builder, p *gemini.Part) {
	switch {
	case p.InlineData != nil:
		b.WriteString("![image](data:")
		b.WriteString(p.InlineData.MIMEType)
		b.WriteString(";base64,")
		b.WriteString(p.InlineData.Data)
		b.WriteString(")")
	case p.FileData != nil:
		b.WriteString(p.FileData.FileURI)
	case p.ExecutableCode != nil:
		b.WriteString("\n```")
		b.WriteString(strings.ToLower(p.ExecutableCode.Language))
		b.WriteString("\n")
		b.WriteString(p.ExecutableCode.Code)
		if !strings.HasSuffix(p.ExecutableCode.Code, "\n") {
			b.WriteString("\n")
		}
		b.WriteString("```\n")
	case p.CodeExecutionResult != nil:
		b.WriteString("\n```output\n")
		b.WriteString(p.CodeExecutionResult.Output)
		if !strings.HasSuffix(p.CodeExecutionResult.Output, "\n") {
			b.WriteString("\n")
		}
		b.WriteString("```\n")
	default:
		b.WriteString(p.Text)
	}
}

func toolCallOf(p *gemini.Part, meta *ResponseMeta) ToolCall {
	fc := p.FunctionCall
	id := fc.ID
	if id == "" {
		id = "call_" + meta.newID()
	}
	args := "{}"
	if a := bytes.TrimSpace(fc.Args); len(a) > 0 && string(a) != "null" {
		var buf bytes.Buffer
		if json.Compact(&buf, a) == nil {
			args = buf.String()
		} else {
			args = string(a)
		}
	}
	tc := ToolCall{ID: id, Type: "function", Function: FunctionCall{Name: fc.Name, Arguments: args}}
	if p.ThoughtSignature != "" {
		tc.ExtraContent = &ExtraContent{Google: &GoogleExtra{ThoughtSignature: p.ThoughtSignature}}
		meta.Signatures.Remember(id, p.ThoughtSignature)
	}
	return tc
}

func logprobsOf(r *gemini.LogprobsResult) *ChoiceLogprobs {
	if r == nil || len(r.ChosenCandidates) == 0 {
		return nil
	}
	out := &ChoiceLogprobs{Content: make([]TokenLogprob, len(r.ChosenCandidates))}
	for i, c := range r.ChosenCandidates {
		tl := TokenLogprob{Token: c.Token, Logprob: c.LogProbability, Bytes: tokenBytes(c.Token), TopLogprobs: []TopLogprob{}}
		if i < len(r.TopCandidates) {
			for _, t := range r.TopCandidates[i].Candidates {
				tl.TopLogprobs = append(tl.TopLogprobs, TopLogprob{Token: t.Token, Logprob: t.LogProbability, Bytes: tokenBytes(t.Token)})
			}
		}
		out.Content[i] = tl
	}
	return out
}

func tokenBytes(s string) []int {
	b := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		b[i] = int(s[i])
	}
	return b
}

// UsageFrom maps Gemini usage metadata to OpenAI usage: prompt = prompt +
// tool-use prompt, completion = candidates + thoughts, reasoning = thoughts,
// cached = cachedContentTokenCount.
func UsageFrom(u *gemini.UsageMetadata) *Usage {
	return &Usage{
		PromptTokens:            u.InputTokens(),
		CompletionTokens:        u.OutputTokens(),
		TotalTokens:             u.TotalTokens(),
		PromptTokensDetails:     PromptTokensDetails{CachedTokens: u.CachedContentTokenCount},
		CompletionTokensDetails: CompletionTokensDetails{ReasoningTokens: u.ThoughtsTokenCount},
	}
}

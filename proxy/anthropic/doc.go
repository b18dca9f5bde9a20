// Package anthropic holds the Anthropic Messages API wire types and the pure
// functions that translate Messages requests to the Gemini REST API and
// Gemini answers back. It does no I/O of its own: image and document URLs
// are fetched through a function the caller injects, and the HTTP handler
// lives in package proxy (the Anthropic dialect), like proxy/openai.
//
// A Messages handler is, in outline:
//
//	req, err := anthropic.ParseRequest(body)            // *Error, 400
//	tr, err := anthropic.ToGemini(ctx, req, opts)       // *Error, 400
//	// call models/{tr.Model}:generateContent (or :streamGenerateContent?alt=sse)
//	// non-stream: anthropic.FromGeminiJSON(upstreamBody, meta)
//	// stream:     st := anthropic.NewStreamTranslator(meta)
//	//             for each SSE event: dst, err = st.Translate(dst, ev.Data)
//	//             at the end: st.Finish(dst)
//	//             on a mid-stream failure: anthropic.ErrorEvent(e), no message_stop
//	// upstream error: anthropic.WriteError(w, anthropic.FromGeminiError(status, body))
//
// # Mapping decisions
//
// The top-level system (a string or text blocks; cache_control ignored) and
// every message with role "system" (Claude Code sends them beside user and
// assistant), in order, make systemInstruction. user → "user", assistant →
// "model"; consecutive turns of one role are merged. Blocks: text → text;
// image and document with a base64 source → inlineData (PDFs included), with
// a url source → fetched by Options.Fetch (the server's guarded fetcher) or,
// for Gemini Files API URLs, fileData; a text document → text (its title
// first); a content document → its text and images. tool_use → functionCall
// (the id is kept on the Anthropic side: tool_result finds the function name
// by it); tool_result → functionResponse {"output": text} ({"error": text}
// when is_error), its images and documents following as parts; a
// tool_reference in it (Claude Code's ToolSearch naming a deferred tool)
// becomes a line of text, as every tool, deferred or not, is declared to
// Gemini from the start.
//
// Thinking: a thinking block with text is a thought part with the block's
// signature as thoughtSignature, both ways. A signature Gemini puts on an
// answer or function-call part (Gemini 3 validates those of function calls)
// travels in a thinking block with empty text placed just before that part's
// block (for the signature Gemini sends on the last, empty part of a
// streamed answer: just after the text block); ToGemini gives such a
// signature to the next part of the turn, or to the turn's last part when
// none follows. So a client that replays assistant turns as it got them,
// as Claude Code and the SDKs do, sends Gemini exactly what Gemini sent.
// Each tool_use id's signature is also recorded (Meta.Signatures) and
// restored for a tool_use replayed without its thinking block; when none is
// known, the first call of the turn gets Google's placeholder
// "skip_thought_signature_validator". A thought part with empty text and a
// signature comes back as a signature of the next part: the one inexact case.
//
// Tools: custom tools (type absent or "custom") become function declarations
// with input_schema cleaned by gemini.CleanSchema (JSON Schema 2020-12 as
// Claude Code sends it); defer_loading is accepted and the tool offered as
// usual; Anthropic's server tools are a 400. tool_choice auto → AUTO, any →
// ANY, tool → ANY with allowedFunctionNames, none → NONE;
// disable_parallel_tool_use has no Gemini counterpart and is ignored.
//
// Generation: max_tokens (required on /v1/messages) is clamped to the model
// family's output limit (gemini.MaxOutputTokens); temperature, top_p, top_k
// and stop_sequences map one to one; output_config.format json_schema sets
// responseMimeType and responseJsonSchema. thinking enabled sends
// budget_tokens as thinkingBudget on Gemini 2.5 (at most 32768) and the
// nearest thinkingLevel on Gemini 3 (≤2048 LOW, ≤12288 MEDIUM, else HIGH);
// adaptive uses output_config.effort when given (low 1024 / LOW, medium 8192
// / MEDIUM, high and max 24576 / HIGH) and the model's dynamic thinking
// otherwise; disabled sends budget 0 (MINIMAL on Gemini 3, which cannot turn
// thinking off). Thought text is asked for (includeThoughts) unless
// thinking.display is "omitted". metadata, context_management, service_tier
// and cache_control are accepted with no effect.
//
// Answers: only the first candidate is used. stop_reason: a function call →
// tool_use, MAX_TOKENS → max_tokens, SAFETY, RECITATION, BLOCKLIST,
// PROHIBITED_CONTENT, SPII, LANGUAGE and the IMAGE_* blocks, and a blocked
// prompt → refusal (with a text block saying so when nothing else came), else
// end_turn. Gemini does not tell which stop sequence ended an answer, so
// stop_sequence is never reported (the answer ends with end_turn). usage:
// input_tokens = prompt + tool-use prompt − cached, output_tokens =
// candidates + thoughts, cache_read_input_tokens = cachedContentTokenCount.
// Generated images and code-execution parts become text (Markdown), as in
// proxy/openai.
//
// Errors: {"type":"error","error":{"type","message"}} with the upstream
// status kept and the type Anthropic uses for it (TypeForStatus): 400
// invalid_request_error, 401 authentication_error, 403 permission_error, 404
// not_found_error, 413 request_too_large, 429 rate_limit_error, 503
// overloaded_error, other 5xx api_error.
package anthropic

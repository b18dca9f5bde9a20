// Package openai holds the OpenAI wire types and the pure functions that
// translate OpenAI Chat Completions, Embeddings and Models requests to the
// Gemini REST API and Gemini answers back. It does no I/O of its own: image
// URLs are fetched through a function the caller injects, and the HTTP
// handlers that use these functions live in package proxy.
//
// A chat handler is, in outline:
//
//	req, err := openai.ParseChatRequest(body)          // *Error, 400
//	tr, err := openai.ToGemini(ctx, req, opts)         // *Error, 400
//	// call models/{tr.Model}:generateContent (or :streamGenerateContent?alt=sse
//	// when tr.Stream) with json.Marshal(tr.Body)
//	// non-stream: openai.FromGeminiJSON(upstreamBody, meta)
//	// stream:     st := openai.NewStreamTranslator(meta, tr.IncludeUsage)
//	//             for each SSE event: chunks, err := st.Translate(ev.Data)
//	//             at the end: st.Finish(), then "data: [DONE]"
//	//             on a mid-stream failure: openai.ErrorChunk(e), no [DONE]
//	// upstream error: openai.WriteError(w, openai.FromGeminiError(status, body))
//
// # Mapping decisions
//
// Messages: every system and developer message, in order, becomes a part of
// systemInstruction. user → "user", assistant → "model". Assistant tool_calls
// become functionCall parts; the thoughtSignature of a call is restored from
// tool_calls[].extra_content.google.thought_signature (where FromGemini put
// it). Clients that drop unknown fields (the OpenAI SDK's runTools, most
// agent loops) lose it, so the server also keeps a SignatureCache: FromGemini
// and StreamTranslator record each tool call's signature by call id
// (ResponseMeta.Signatures) and ToGemini restores it for a call that comes
// back without one (RequestOptions.Signatures); a signature sent by the
// client always wins. When the first call of an assistant message still has
// no signature (an id this proxy never returned, or one evicted), the
// placeholder "skip_thought_signature_validator" documented by Google is sent
// instead, so Gemini 3 accepts the replayed history. Consecutive tool messages become functionResponse parts of
// one "user" turn, the function name taken from the matching tool call; a
// tool output that is a JSON object is sent as is, anything else as
// {"output": "<text>"} (the key Google documents for function output). A
// message with no content at all (e.g. an empty assistant reply replayed by a
// client) is skipped, since Gemini rejects empty turns.
//
// Only function-call signatures are carried: Gemini validates those, while
// the optional signature Gemini 3 puts on the last part of a plain text
// answer has no OpenAI field to travel in and is not returned.
//
// Media: image_url takes data URIs and http(s) URLs (fetched by
// RequestOptions.FetchImage; a failed fetch is a 400 with the fetcher's
// message; image_url.detail is a hint and is not mapped). Gemini Files API
// URIs are sent as fileData. input_audio formats wav, mp3, aiff, aac, ogg, flac, m4a, webm, pcm16 map to audio/* MIME types.
// file parts take file_data (a data URI, or bare base64 typed by the filename,
// PDF by default) or a Gemini file_id ("files/…").
//
// Parameters: temperature, top_p, max_completion_tokens (else max_tokens),
// stop, n (candidateCount), seed, logprobs/top_logprobs map one to one.
// presence_penalty and frequency_penalty are sent only when non-zero: several
// Gemini models reject the fields even at their default 0, which many clients
// always send.
//
// Structured output and tools: response_format json_object sets
// responseMimeType application/json; json_schema adds responseJsonSchema.
// Function parameters go to parametersJsonSchema. Both are Gemini's
// JSON-Schema fields (not the older OpenAPI-subset "responseSchema" /
// "parameters", which reject additionalProperties, $ref, type arrays …), so
// little has to be changed; see CleanSchema for the exact rewriting and for
// what is a 400.
//
// Thinking: reasoning_effort maps to thinkingLevel on Gemini 3 and later
// (none and minimal → MINIMAL, low → LOW, medium → MEDIUM, high → HIGH) and
// to thinkingBudget elsewhere (none → 0, minimal → 512, low → 1024,
// medium → 8192, high → 24576; the 1K/8K/24K steps are the ones Google's own
// OpenAI endpoint uses, 512 is the smallest budget every 2.5 model accepts).
// google.thinking_config (top level or under extra_body) is passed through;
// giving both is a 400, as on Google's endpoint. includeThoughts is set
// whenever thinking is on — and, when the client says nothing, for model
// families that think by default (gemini-2.5*, gemini-3+, except image, TTS,
// audio and live variants) — so the thought summaries can be returned as
// reasoning_content. An explicit include_thoughts wins.
//
// Responses: non-thought text parts are concatenated into content, thought
// parts into reasoning_content, function calls become tool_calls (id from
// Gemini's functionCall.id when present, else "call_" + a fresh id).
// Generated images (inlineData) are appended to content as Markdown data-URI
// images, code-execution parts as fenced blocks, so nothing the model
// produced disappears. finish_reason: STOP → stop, MAX_TOKENS → length,
// SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, LANGUAGE and the
// IMAGE_* blocks → content_filter, any function call → tool_calls, anything
// else → stop. A prompt blocked before generation (promptFeedback, no
// candidates) becomes one choice with finish_reason content_filter, content
// "" and message.refusal explaining the block reason; a candidate blocked
// with no content gets the same refusal text. Usage: prompt_tokens =
// prompt + tool-use prompt, completion_tokens = candidates + thoughts,
// reasoning_tokens = thoughts, cached_tokens = cachedContentTokenCount.
package openai

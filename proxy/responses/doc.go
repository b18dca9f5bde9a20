// Package responses holds the OpenAI Responses API wire types and the pure
// functions that translate a POST /v1/responses request to the Gemini REST
// API and Gemini answers back, in the shape of package openai (whose schema
// cleaner, media readers, reasoning-effort mapping, answer decoder and error
// type it shares). It does no I/O: the HTTP handler lives in package proxy.
//
// A handler is, in outline:
//
//	req, err := responses.ParseRequest(body)              // *openai.Error, 400
//	tr, err := responses.ToGemini(ctx, req, opts)         // *openai.Error, 400
//	// log tr.Notes; call models/{tr.Model}:generateContent, or
//	// :streamGenerateContent?alt=sse when tr.Stream, with json.Marshal(tr.Body)
//	// non-stream: responses.FromGeminiJSON(upstreamBody, tr.Meta)
//	// stream:     st := responses.NewStreamTranslator(tr.Meta)
//	//             for each SSE event: events, err := st.Translate(ev.Data)
//	//             at the end: st.Finish(); on a mid-stream failure: st.Fail(e)
//	// when tr.Store: store.Put(resp.ID, tr.History, resp.Output)
//	// upstream error: openai.WriteError(w, openai.FromGeminiError(status, body))
//
// # Requests
//
// input is a string (one user message) or items. Message items: user →
// "user" turn (input_text, input_image as a data URI, an http(s) URL fetched
// by RequestOptions.FetchImage or a Gemini file id, input_file as file_data
// or a Gemini file id); assistant → "model" turn (output_text, refusal);
// system and developer → systemInstruction, after instructions, in order
// (Codex sends no instructions and puts its prompt in developer messages).
// Consecutive items of one side are merged into one turn, so turns
// alternate and every functionResponse follows its call.
//
// Tools: function → a function declaration (parameters cleaned by
// openai.CleanSchema into parametersJsonSchema); namespace → one declaration
// per member, named namespace + "__" + name (no separator when the
// namespace ends in '_', '.' or ':'), and calls are returned with name and
// namespace apart again; custom → a function with the one string argument
// "input" (its grammar, if any, is put in the description), returned as
// custom_tool_call items with that string as input; tool_search (executed
// by the client) → the function "tool_search", returned as tool_search_call
// items; web_search → Gemini's googleSearch when the model can use it
// beside functions (Gemini 3 and later, or when there are no functions),
// else left out with a note (Translated.Notes). Names Gemini rejects are
// rewritten (and restored). defer_loading is ignored: Gemini has no tool
// search, every tool is declared. Tools of an additional_tools input item
// and of a tool_search_output item are declared like top-level ones. Other
// hosted tools (file_search, computer, code_interpreter, mcp, …) are left
// out with a note.
//
// Calls and outputs: function_call, custom_tool_call and tool_search_call
// items become functionCall parts; function_call_output and
// custom_tool_call_output become functionResponse parts named after the
// call with the same call_id (an output that is a JSON object is sent as
// is, anything else as {"output": text}; images and files in an output
// array follow as parts). web_search_call and compaction items are left
// out with a note; item_reference is a 400.
//
// Thought signatures: Gemini 3 rejects a replayed function call without the
// signature it was given. The answer puts each call's signature in the
// encrypted_content of the reasoning item before the call ("gbd1." +
// base64url(call_id) + "." + signature, see EncodeSignature), which a
// stateless client (Codex: store false, include
// reasoning.encrypted_content) sends back; ToGemini restores it onto the
// call with that call_id. When it is missing the server's SignatureCache
// is asked, and failing that the first call of the turn gets the
// "skip_thought_signature_validator" placeholder. Reasoning summaries are
// not sent back (Gemini ignores them); encrypted_content not written by
// this proxy is ignored.
//
// Options: tool_choice none / auto / required / {type: function|custom,
// name} / allowed_tools → functionCallingConfig NONE / AUTO / ANY / ANY with
// allowedFunctionNames (a hosted tool choice → AUTO); text.format
// json_object / json_schema → responseMimeType application/json and
// responseJsonSchema; max_output_tokens, temperature, top_p as such;
// reasoning.effort → thinkingLevel or thinkingBudget exactly as the chat
// route maps reasoning_effort (xhigh → high); reasoning.summary auto,
// concise or detailed → includeThoughts (thought summaries are returned
// only when asked for, as on OpenAI). Accepted without effect:
// text.verbosity, prompt_cache_key, include, client_metadata, metadata,
// reasoning.context, parallel_tool_calls, truncation, service_tier, user,
// stream_options. background, conversation and prompt templates need
// OpenAI's storage and are a 400.
//
// previous_response_id continues a response kept in a Store (bounded by
// count, bytes and age; responses sent with store: false are not kept); an
// unknown id is a 400 with code previous_response_not_found.
//
// # Answers
//
// Parts map to output items in the order Gemini produced them: thought
// summaries → a reasoning item (summary_text), text → a message item with
// one output_text part (images and code execution rendered as Markdown),
// each function call → a function_call (call_id from Gemini's id, else
// "call_" + a fresh id; arguments as a JSON string), custom_tool_call or
// tool_search_call item. finishReason MAX_TOKENS makes the response
// incomplete (max_output_tokens), the safety family incomplete
// (content_filter, with a refusal when nothing was shown); a blocked prompt
// is an incomplete response with a refusal. Usage: input_tokens = prompt +
// tool-use prompt, output_tokens = candidates + thoughts, reasoning_tokens =
// thoughts, cached_tokens = cachedContentTokenCount. A failure after the
// first event ends the stream with response.failed (code server_error, or
// rate_limit_exceeded for a 429), never with response.completed. Errors
// before the stream are OpenAI's {"error": {...}} (openai.Error).
package responses

package responses

import "encoding/json"

// Request is a POST /v1/responses body. Fields whose JSON type varies
// (input, instructions, tool_choice, tool outputs) are kept raw and read by
// ToGemini, which names them in its error messages. Unknown fields are
// ignored; the fields below that have no Gemini counterpart are accepted and
// have no effect (see the package documentation).
type Request struct {
	Model              string          `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       json.RawMessage `json:"instructions"`
	Tools              json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	ParallelToolCalls  *bool           `json:"parallel_tool_calls"`
	Text               *TextConfig     `json:"text"`
	Reasoning          *Reasoning      `json:"reasoning"`
	MaxOutputTokens    *int            `json:"max_output_tokens"`
	Temperature        *float64        `json:"temperature"`
	TopP               *float64        `json:"top_p"`
	Stream             bool            `json:"stream"`
	Store              *bool           `json:"store"`
	PreviousResponseID string          `json:"previous_response_id"`
	Include            []string        `json:"include"`
	PromptCacheKey     string          `json:"prompt_cache_key"`
	ClientMetadata     json.RawMessage `json:"client_metadata"`
	Metadata           json.RawMessage `json:"metadata"`
	Truncation         string          `json:"truncation"`
	User               string          `json:"user"`
	ServiceTier        string          `json:"service_tier"`
	Background         *bool           `json:"background"`
	Conversation       json.RawMessage `json:"conversation"`
	Prompt             json.RawMessage `json:"prompt"`
	TopLogprobs        *int            `json:"top_logprobs"`
	MaxToolCalls       *int            `json:"max_tool_calls"`
	StreamOptions      json.RawMessage `json:"stream_options"`
}

// TextConfig is the text option of a request.
type TextConfig struct {
	Format    *TextFormat `json:"format"`
	Verbosity string      `json:"verbosity"`
}

// TextFormat is text.format: text, json_object or json_schema.
type TextFormat struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Reasoning is the reasoning option of a request. Context (Codex's
// "all_turns" and the like) is accepted and has no effect.
type Reasoning struct {
	Effort          string          `json:"effort"`
	Summary         string          `json:"summary"`
	GenerateSummary string          `json:"generate_summary"`
	Context         json.RawMessage `json:"context"`
}

// Tool is one entry of tools (or of an additional_tools item, a namespace,
// or a tool_search_output). Which fields are set depends on Type.
type Tool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
	// Format is a custom tool's input format (text, or a grammar).
	Format *CustomFormat `json:"format"`
	// Tools are a namespace's members (function and custom tools).
	Tools []Tool `json:"tools"`
	// DeferLoading marks a tool the model is meant to discover through
	// tool_search. Gemini has no such step: the tool is declared anyway.
	DeferLoading bool `json:"defer_loading"`
}

// CustomFormat is the format of a custom tool's free-text input.
type CustomFormat struct {
	Type       string `json:"type"`
	Syntax     string `json:"syntax"`
	Definition string `json:"definition"`
}

// Item is one input item. Which fields are set depends on Type (an item
// with a role and no type is a message).
type Item struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"`
	Status           string          `json:"status"`
	CallID           string          `json:"call_id"`
	Name             string          `json:"name"`
	Namespace        string          `json:"namespace"`
	Arguments        json.RawMessage `json:"arguments"`
	Output           json.RawMessage `json:"output"`
	Input            *string         `json:"input"`
	Summary          []SummaryPart   `json:"summary"`
	EncryptedContent *string         `json:"encrypted_content"`
	Tools            []Tool          `json:"tools"`
}

// SummaryPart is one entry of a reasoning item's summary.
type SummaryPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// ContentPart is one element of a message's content array, or of a tool
// output array.
type ContentPart struct {
	Type     string  `json:"type"`
	Text     *string `json:"text"`
	Refusal  string  `json:"refusal"`
	ImageURL string  `json:"image_url"`
	FileID   string  `json:"file_id"`
	FileData string  `json:"file_data"`
	FileURL  string  `json:"file_url"`
	Filename string  `json:"filename"`
	Detail   string  `json:"detail"`
}

// Response is a Responses API response object: the non-stream answer, and
// the "response" of the created, in_progress, completed, incomplete and
// failed stream events. It is encoded by MarshalJSON.
type Response struct {
	ID                string
	CreatedAt         int64
	Status            string // in_progress, completed, incomplete, failed
	Error             *ResponseError
	IncompleteDetails *IncompleteDetails
	Model             string
	Output            []OutputItem
	Usage             *Usage
	// Echo is the request's settings as the response repeats them
	// (instructions, tools, tool_choice, text, reasoning …): JSON object
	// members without braces, made once per request by ToGemini.
	Echo []byte
}

// ResponseError is the error of a failed response.
type ResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// IncompleteDetails says why a response is incomplete: max_output_tokens or
// content_filter.
type IncompleteDetails struct {
	Reason string `json:"reason"`
}

// Usage is the token usage of a response.
type Usage struct {
	InputTokens     int64
	CachedTokens    int64
	OutputTokens    int64
	ReasoningTokens int64
	TotalTokens     int64
}

// OutputItem is one item of a response's output. Type is message,
// reasoning, function_call, custom_tool_call or tool_search_call; the other
// fields are those of that type.
type OutputItem struct {
	Type   string
	ID     string
	Status string // message and tool calls: in_progress or completed
	// message: the text of its one output_text part, or a refusal.
	Text    string
	Refusal string
	// reasoning: the thought summary (one summary_text part when not
	// empty) and the thought signature envelope (see EncodeSignature).
	Summary          string
	EncryptedContent string
	// function_call, custom_tool_call, tool_search_call.
	CallID    string
	Name      string
	Namespace string
	// Arguments: a JSON object as a string for function_call; the raw JSON
	// arguments for tool_search_call.
	Arguments string
	// Input is a custom tool call's free-text input.
	Input string
}

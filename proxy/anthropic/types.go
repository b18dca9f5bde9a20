package anthropic

import "encoding/json"

// MessagesRequest is the body of POST /v1/messages (and, without the
// generation fields, of /v1/messages/count_tokens). Fields that have no
// effect on Gemini (metadata, context_management, service_tier, container,
// mcp_servers, cache_control) are accepted and ignored.
type MessagesRequest struct {
	Model         string          `json:"model"`
	MaxTokens     *int            `json:"max_tokens"`
	Messages      []Message       `json:"messages"`
	System        json.RawMessage `json:"system"` // a string or an array of text blocks
	StopSequences []string        `json:"stop_sequences"`
	Stream        bool            `json:"stream"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	TopK          *int            `json:"top_k"`
	Tools         []Tool          `json:"tools"`
	ToolChoice    *ToolChoice     `json:"tool_choice"`
	Thinking      *Thinking       `json:"thinking"`
	OutputConfig  *OutputConfig   `json:"output_config"`
	Metadata      json.RawMessage `json:"metadata"`
}

// Message is one turn: role "user", "assistant" or (as Claude Code sends
// beside them) "system". Content is a string or an array of blocks.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// Block is a content block of a request: text, image, document, tool_use,
// tool_result, thinking or redacted_thinking. Only the fields of its type
// are set.
type Block struct {
	Type string `json:"type"`
	// text
	Text string `json:"text"`
	// image, document
	Source *Source `json:"source"`
	Title  string  `json:"title"`
	// tool_use
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
	// tool_result
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"` // a string or an array of blocks
	IsError   bool            `json:"is_error"`
	// thinking
	Thinking  string `json:"thinking"`
	Signature string `json:"signature"`
	// tool_reference (inside a tool_result: a deferred tool made available)
	ToolName string `json:"tool_name"`
}

// Source is where an image or document block's data is: base64 (Data with
// MediaType), url, text (Data is the text itself) or content (nested
// blocks).
type Source struct {
	Type      string          `json:"type"`
	MediaType string          `json:"media_type"`
	Data      string          `json:"data"`
	URL       string          `json:"url"`
	FileID    string          `json:"file_id"`
	Content   json.RawMessage `json:"content"`
}

// Tool is a custom tool (type "" or "custom"); other types are Anthropic's
// server tools. DeferLoading is accepted (the tool is offered as usual).
type Tool struct {
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	DeferLoading bool            `json:"defer_loading"`
}

// ToolChoice is auto, any, tool (with Name) or none.
type ToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
}

// Thinking is the thinking setting: enabled (with BudgetTokens), adaptive or
// disabled. Display "omitted" asks for thinking blocks without their text.
type Thinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens"`
	Display      string `json:"display"`
}

// OutputConfig holds the effort (low, medium, high, max) and the structured
// output format.
type OutputConfig struct {
	Effort string        `json:"effort"`
	Format *OutputFormat `json:"format"`
}

// OutputFormat asks for JSON matching Schema (type "json_schema").
type OutputFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

// Response is a whole answer of POST /v1/messages.
type Response struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"` // "message"
	Role         string         `json:"role"` // "assistant"
	Model        string         `json:"model"`
	Content      []ContentBlock `json:"content"`
	StopReason   *string        `json:"stop_reason"`
	StopSequence *string        `json:"stop_sequence"`
	Usage        Usage          `json:"usage"`
}

// ContentBlock is a block of an answer: text, thinking or tool_use.
type ContentBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
}

// Usage is Anthropic's token accounting. InputTokens excludes the tokens
// read from the cache (CacheReadInputTokens), as Anthropic counts them.
type Usage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

// CountTokensResponse is the answer of /v1/messages/count_tokens.
type CountTokensResponse struct {
	InputTokens int64 `json:"input_tokens"`
}

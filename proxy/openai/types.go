package openai

import "encoding/json"

// ChatRequest is a POST /v1/chat/completions body. Fields whose JSON type
// varies (content, stop, tool_choice, tool outputs) are kept raw and
// interpreted by ToGemini, which knows where they are for its error messages.
// Unknown fields are ignored.
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Stream              bool            `json:"stream"`
	StreamOptions       *StreamOptions  `json:"stream_options"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stop                json.RawMessage `json:"stop"`
	N                   *int            `json:"n"`
	Seed                *int64          `json:"seed"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	Logprobs            *bool           `json:"logprobs"`
	TopLogprobs         *int            `json:"top_logprobs"`
	ResponseFormat      *ResponseFormat `json:"response_format"`
	Tools               []Tool          `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	ReasoningEffort     string          `json:"reasoning_effort"`
	// Google is Google's extension object, sent at the top level by SDKs that
	// merge extra_body into the body (the Python SDK), or nested under
	// extra_body by clients that send it literally.
	Google    *GoogleOptions `json:"google"`
	ExtraBody *struct {
		Google *GoogleOptions `json:"google"`
	} `json:"extra_body"`
}

// StreamOptions are the stream_options of a chat request.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// GoogleOptions is the "google" extension (extra_body.google) as Google's
// own OpenAI endpoint defines it.
type GoogleOptions struct {
	ThinkingConfig *ThinkingConfig `json:"thinking_config"`
	SafetySettings []SafetySetting `json:"safety_settings"`
	CachedContent  string          `json:"cached_content"`
}

// ThinkingConfig is google.thinking_config; snake_case and camelCase keys are
// both accepted.
type ThinkingConfig struct {
	ThinkingBudget  *int   `json:"thinking_budget"`
	IncludeThoughts *bool  `json:"include_thoughts"`
	ThinkingLevel   string `json:"thinking_level"`
}

// UnmarshalJSON accepts thinking_budget / thinkingBudget and so on.
func (t *ThinkingConfig) UnmarshalJSON(data []byte) error {
	var raw struct {
		ThinkingBudget       *int   `json:"thinking_budget"`
		IncludeThoughts      *bool  `json:"include_thoughts"`
		ThinkingLevel        string `json:"thinking_level"`
		ThinkingBudgetCamel  *int   `json:"thinkingBudget"`
		IncludeThoughtsCamel *bool  `json:"includeThoughts"`
		ThinkingLevelCamel   string `json:"thinkingLevel"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*t = ThinkingConfig{ThinkingBudget: raw.ThinkingBudget, IncludeThoughts: raw.IncludeThoughts, ThinkingLevel: raw.ThinkingLevel}
	if t.ThinkingBudget == nil {
		t.ThinkingBudget = raw.ThinkingBudgetCamel
	}
	if t.IncludeThoughts == nil {
		t.IncludeThoughts = raw.IncludeThoughtsCamel
	}
	if t.ThinkingLevel == "" {
		t.ThinkingLevel = raw.ThinkingLevelCamel
	}
	return nil
}

// SafetySetting is one entry of google.safety_settings.
type SafetySetting struct {
	Category  string `json:"category"`
	Threshold string `json:"threshold"`
}

// Message is one entry of messages. Content is a string, an array of content
// parts, or null.
type Message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// ContentPart is one element of an array content.
type ContentPart struct {
	Type       string          `json:"type"`
	Text       *string         `json:"text"`
	ImageURL   json.RawMessage `json:"image_url"`
	InputAudio *InputAudio     `json:"input_audio"`
	File       *FilePart       `json:"file"`
	Refusal    *string         `json:"refusal"`
}

// ImageURL is the object form of image_url (a bare string is accepted too).
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// InputAudio is an input_audio content part: base64 data and its format.
type InputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// FilePart is a file content part.
type FilePart struct {
	FileData string `json:"file_data"`
	FileID   string `json:"file_id"`
	Filename string `json:"filename"`
}

// ToolCall is an assistant tool call, in requests and responses.
// ExtraContent carries Gemini's thought signature (Google's convention).
type ToolCall struct {
	// Index is set only in stream deltas.
	Index        *int          `json:"index,omitempty"`
	ID           string        `json:"id"`
	Type         string        `json:"type"`
	Function     FunctionCall  `json:"function"`
	ExtraContent *ExtraContent `json:"extra_content,omitempty"`
}

// FunctionCall is the function of a tool call; Arguments is a JSON string.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ExtraContent is Google's extension object on tool calls.
type ExtraContent struct {
	Google *GoogleExtra `json:"google,omitempty"`
}

// GoogleExtra holds the Gemini-specific values carried through OpenAI types.
type GoogleExtra struct {
	ThoughtSignature string `json:"thought_signature,omitempty"`
}

// Tool is one entry of tools.
type Tool struct {
	Type     string              `json:"type"`
	Function *FunctionDefinition `json:"function"`
}

// FunctionDefinition declares a function tool.
type FunctionDefinition struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

// ResponseFormat is response_format.
type ResponseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *JSONSchema `json:"json_schema"`
}

// JSONSchema is response_format.json_schema.
type JSONSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Strict      *bool           `json:"strict"`
}

// ChatCompletion is a non-stream chat answer.
type ChatCompletion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   *Usage   `json:"usage,omitempty"`
}

// Choice is one answer (one Gemini candidate).
type Choice struct {
	Index        int              `json:"index"`
	Message      AssistantMessage `json:"message"`
	FinishReason string           `json:"finish_reason"`
	Logprobs     *ChoiceLogprobs  `json:"logprobs"`
}

// AssistantMessage is the message of a Choice. Content is null when the
// answer is tool calls only.
type AssistantMessage struct {
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	Refusal          string     `json:"refusal,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// ChoiceLogprobs is the logprobs of a choice.
type ChoiceLogprobs struct {
	Content []TokenLogprob `json:"content"`
}

// TokenLogprob is the log probability of one generated token.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is one alternative token at a position.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// Usage is the token usage of a chat answer.
type Usage struct {
	PromptTokens            int64                   `json:"prompt_tokens"`
	CompletionTokens        int64                   `json:"completion_tokens"`
	TotalTokens             int64                   `json:"total_tokens"`
	PromptTokensDetails     PromptTokensDetails     `json:"prompt_tokens_details"`
	CompletionTokensDetails CompletionTokensDetails `json:"completion_tokens_details"`
}

// PromptTokensDetails breaks down prompt tokens.
type PromptTokensDetails struct {
	CachedTokens int64 `json:"cached_tokens"`
}

// CompletionTokensDetails breaks down completion tokens.
type CompletionTokensDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// ChatCompletionChunk is one streamed chunk (one "data:" event).
type ChatCompletionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *Usage        `json:"usage,omitempty"`
}

// ChunkChoice is the per-choice part of a chunk. FinishReason is null until
// the choice ends.
type ChunkChoice struct {
	Index        int             `json:"index"`
	Delta        Delta           `json:"delta"`
	FinishReason *string         `json:"finish_reason"`
	Logprobs     *ChoiceLogprobs `json:"logprobs,omitempty"`
}

// Delta is the incremental message of a chunk.
type Delta struct {
	Role             string     `json:"role,omitempty"`
	Content          *string    `json:"content,omitempty"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	Refusal          string     `json:"refusal,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// EmbeddingRequest is a POST /v1/embeddings body.
type EmbeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     *int            `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
	// TaskType is Gemini's taskType (e.g. RETRIEVAL_DOCUMENT), an extension;
	// also read from google.task_type / extra_body.google.task_type.
	TaskType string `json:"task_type"`
	Google   *struct {
		TaskType string `json:"task_type"`
	} `json:"google"`
	ExtraBody *struct {
		Google *struct {
			TaskType string `json:"task_type"`
		} `json:"google"`
	} `json:"extra_body"`

	// Inputs is Input decoded by ParseEmbeddingRequest.
	Inputs []string `json:"-"`
}

// EmbeddingResponse is the answer of /v1/embeddings.
type EmbeddingResponse struct {
	Object string         `json:"object"`
	Data   []Embedding    `json:"data"`
	Model  string         `json:"model"`
	Usage  EmbeddingUsage `json:"usage"`
}

// Embedding is one vector: Embedding is a []float32 or, for
// encoding_format base64, a string of little-endian float32s.
type Embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// EmbeddingUsage is the usage of an embeddings answer.
type EmbeddingUsage struct {
	PromptTokens int64 `json:"prompt_tokens"`
	TotalTokens  int64 `json:"total_tokens"`
}

// ModelList is the answer of GET /v1/models.
type ModelList struct {
	Object string        `json:"object"`
	Data   []ModelObject `json:"data"`
}

// ModelObject is one model, and the answer of GET /v1/models/{id}.
type ModelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

package gemini

// Gemini REST (v1beta) wire types used by the OpenAI translation layer.
//
// These types are written for requests we build and responses we read. They
// are never used to re-encode a native response: the native proxy passes the
// upstream bytes through untouched, so unknown response fields simply do not
// matter here. Where fidelity matters (function arguments, function
// responses, JSON schemas) the values are kept as json.RawMessage.

import (
	"bytes"
	"context"
	"encoding/json"
)

// GenerateContentRequest is the body of models/{model}:generateContent and
// :streamGenerateContent.
type GenerateContentRequest struct {
	Contents          []Content         `json:"contents"`
	SystemInstruction *Content          `json:"systemInstruction,omitempty"`
	Tools             []Tool            `json:"tools,omitempty"`
	ToolConfig        *ToolConfig       `json:"toolConfig,omitempty"`
	SafetySettings    []SafetySetting   `json:"safetySettings,omitempty"`
	GenerationConfig  *GenerationConfig `json:"generationConfig,omitempty"`
	CachedContent     string            `json:"cachedContent,omitempty"`
}

// Content is one turn of a conversation (role "user" or "model"), or the
// system instruction (no role).
type Content struct {
	Role  string `json:"role,omitempty"`
	Parts []Part `json:"parts,omitempty"`
}

// AppendTurn appends parts to contents as a turn of role, joined to the
// last turn when that has the same role (Gemini expects the roles to
// alternate); without parts it appends nothing.
func AppendTurn(contents []Content, role string, parts ...Part) []Content {
	if len(parts) == 0 {
		return contents
	}
	if n := len(contents); n > 0 && contents[n-1].Role == role {
		contents[n-1].Parts = append(contents[n-1].Parts, parts...)
		return contents
	}
	return append(contents, Content{Role: role, Parts: parts})
}

// Part is one piece of a Content. Exactly one of the data fields is set.
// ThoughtSignature is kept as the base64 text Gemini sent: it is opaque and is
// returned byte for byte.
type Part struct {
	Text                string               `json:"text,omitempty"`
	Thought             bool                 `json:"thought,omitempty"`
	ThoughtSignature    string               `json:"thoughtSignature,omitempty"`
	InlineData          *Blob                `json:"inlineData,omitempty"`
	FileData            *FileData            `json:"fileData,omitempty"`
	FunctionCall        *FunctionCall        `json:"functionCall,omitempty"`
	FunctionResponse    *FunctionResponse    `json:"functionResponse,omitempty"`
	ExecutableCode      *ExecutableCode      `json:"executableCode,omitempty"`
	CodeExecutionResult *CodeExecutionResult `json:"codeExecutionResult,omitempty"`
	VideoMetadata       json.RawMessage      `json:"videoMetadata,omitempty"`
}

// SkipThoughtSignature is the placeholder Google documents for a replayed
// function call whose thought signature was lost: it tells Gemini 3 to skip
// the signature check for that call.
const SkipThoughtSignature = "skip_thought_signature_validator"

// FetchFunc fetches an http(s) URL of an image (or a document) a client
// sent and returns it as inline data: its MIME type (sniffed when the
// server did not say) and its bytes, base64-encoded. The proxy's fetcher
// bounds the time, the size and the addresses it may reach; its error text
// is shown to the client. The dialects (openai, anthropic, responses) take
// one.
type FetchFunc func(ctx context.Context, url string) (*Blob, error)

// Blob is inline media: Data is standard base64.
type Blob struct {
	MIMEType string `json:"mimeType"`
	Data     string `json:"data"`
}

// FileData references media by URI (Files API, or a public URL where Gemini
// accepts one).
type FileData struct {
	MIMEType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

// FunctionCall is a call the model asks the client to make. Args is the JSON
// object of arguments, exactly as sent.
type FunctionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

// FunctionResponse carries the result of a FunctionCall back to the model.
// Response must be a JSON object.
type FunctionResponse struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

// ExecutableCode is code the model generated for the code-execution tool.
type ExecutableCode struct {
	Language string `json:"language,omitempty"`
	Code     string `json:"code"`
}

// CodeExecutionResult is the outcome of running ExecutableCode.
type CodeExecutionResult struct {
	Outcome string `json:"outcome,omitempty"`
	Output  string `json:"output,omitempty"`
}

// GenerationConfig holds the sampling and output options. Pointers
// distinguish "not set" from zero.
type GenerationConfig struct {
	StopSequences      []string        `json:"stopSequences,omitempty"`
	ResponseMIMEType   string          `json:"responseMimeType,omitempty"`
	ResponseSchema     json.RawMessage `json:"responseSchema,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
	ResponseModalities []string        `json:"responseModalities,omitempty"`
	CandidateCount     *int            `json:"candidateCount,omitempty"`
	MaxOutputTokens    *int            `json:"maxOutputTokens,omitempty"`
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"topP,omitempty"`
	TopK               *int            `json:"topK,omitempty"`
	Seed               *int64          `json:"seed,omitempty"`
	PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
	ResponseLogprobs   bool            `json:"responseLogprobs,omitempty"`
	Logprobs           *int            `json:"logprobs,omitempty"`
	ThinkingConfig     *ThinkingConfig `json:"thinkingConfig,omitempty"`
	MediaResolution    string          `json:"mediaResolution,omitempty"`
}

// ThinkingConfig controls thinking. ThinkingBudget is for Gemini 2.5 models
// (0 = off, -1 = dynamic), ThinkingLevel ("MINIMAL", "LOW", "MEDIUM", "HIGH")
// for Gemini 3 and later; the two are mutually exclusive upstream.
type ThinkingConfig struct {
	IncludeThoughts bool   `json:"includeThoughts,omitempty"`
	ThinkingBudget  *int   `json:"thinkingBudget,omitempty"`
	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
}

// Tool is one tool entry. Only function declarations are built by the
// translator; the built-in tools are kept raw for pass-through.
type Tool struct {
	FunctionDeclarations []FunctionDeclaration `json:"functionDeclarations,omitempty"`
	GoogleSearch         json.RawMessage       `json:"googleSearch,omitempty"`
	CodeExecution        json.RawMessage       `json:"codeExecution,omitempty"`
	URLContext           json.RawMessage       `json:"urlContext,omitempty"`
}

// FunctionDeclaration describes a function the model may call. Parameters is
// Gemini's OpenAPI-subset schema; ParametersJSONSchema a JSON Schema. Set at
// most one.
type FunctionDeclaration struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	Parameters           json.RawMessage `json:"parameters,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

// ToolConfig configures tool use for the request.
type ToolConfig struct {
	FunctionCallingConfig *FunctionCallingConfig `json:"functionCallingConfig,omitempty"`
	// IncludeServerSideToolInvocations lets Gemini 3 and later use built-in
	// tools (Google Search) in the same request as function declarations.
	IncludeServerSideToolInvocations bool `json:"includeServerSideToolInvocations,omitempty"`
}

// FunctionCallingConfig sets the mode ("AUTO", "ANY", "NONE", "VALIDATED")
// and, for ANY, the functions the model may choose from.
type FunctionCallingConfig struct {
	Mode                 string   `json:"mode,omitempty"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

// SafetySetting sets the block threshold of one harm category.
type SafetySetting struct {
	Category  string `json:"category"`
	Threshold string `json:"threshold"`
}

// GenerateContentResponse is a generateContent answer, or one streamed chunk.
type GenerateContentResponse struct {
	Candidates     []Candidate     `json:"candidates,omitempty"`
	PromptFeedback *PromptFeedback `json:"promptFeedback,omitempty"`
	UsageMetadata  *UsageMetadata  `json:"usageMetadata,omitempty"`
	ModelVersion   string          `json:"modelVersion,omitempty"`
	ResponseID     string          `json:"responseId,omitempty"`
}

// Candidate is one generated answer. Index is absent (0) when there is one.
type Candidate struct {
	Content           *Content        `json:"content,omitempty"`
	FinishReason      string          `json:"finishReason,omitempty"`
	FinishMessage     string          `json:"finishMessage,omitempty"`
	Index             int             `json:"index,omitempty"`
	SafetyRatings     []SafetyRating  `json:"safetyRatings,omitempty"`
	CitationMetadata  json.RawMessage `json:"citationMetadata,omitempty"`
	GroundingMetadata json.RawMessage `json:"groundingMetadata,omitempty"`
	AvgLogprobs       float64         `json:"avgLogprobs,omitempty"`
	LogprobsResult    *LogprobsResult `json:"logprobsResult,omitempty"`
	TokenCount        int             `json:"tokenCount,omitempty"`
}

// SafetyRating is the rating of one harm category.
type SafetyRating struct {
	Category    string `json:"category"`
	Probability string `json:"probability"`
	Blocked     bool   `json:"blocked,omitempty"`
}

// PromptFeedback says why a prompt was blocked (then there are no candidates).
type PromptFeedback struct {
	BlockReason        string         `json:"blockReason,omitempty"`
	BlockReasonMessage string         `json:"blockReasonMessage,omitempty"`
	SafetyRatings      []SafetyRating `json:"safetyRatings,omitempty"`
}

// LogprobsResult holds per-token log probabilities of a candidate.
type LogprobsResult struct {
	TopCandidates    []TopCandidates     `json:"topCandidates,omitempty"`
	ChosenCandidates []LogprobsCandidate `json:"chosenCandidates,omitempty"`
}

// TopCandidates lists the most likely tokens at one position.
type TopCandidates struct {
	Candidates []LogprobsCandidate `json:"candidates,omitempty"`
}

// LogprobsCandidate is one token with its log probability.
type LogprobsCandidate struct {
	Token          string  `json:"token"`
	TokenID        int     `json:"tokenId,omitempty"`
	LogProbability float64 `json:"logProbability"`
}

// UsageMetadata is Gemini's token accounting. In a stream every chunk carries
// it; the last chunk's is final. TotalTokenCount = prompt + toolUsePrompt +
// candidates + thoughts.
type UsageMetadata struct {
	PromptTokenCount           int64                `json:"promptTokenCount,omitempty"`
	CandidatesTokenCount       int64                `json:"candidatesTokenCount,omitempty"`
	TotalTokenCount            int64                `json:"totalTokenCount,omitempty"`
	CachedContentTokenCount    int64                `json:"cachedContentTokenCount,omitempty"`
	ThoughtsTokenCount         int64                `json:"thoughtsTokenCount,omitempty"`
	ToolUsePromptTokenCount    int64                `json:"toolUsePromptTokenCount,omitempty"`
	PromptTokensDetails        []ModalityTokenCount `json:"promptTokensDetails,omitempty"`
	CandidatesTokensDetails    []ModalityTokenCount `json:"candidatesTokensDetails,omitempty"`
	CacheTokensDetails         []ModalityTokenCount `json:"cacheTokensDetails,omitempty"`
	ToolUsePromptTokensDetails []ModalityTokenCount `json:"toolUsePromptTokensDetails,omitempty"`
}

// InputTokens is what the model read, as every dialect counts it: the
// prompt and the tool-use prompt (cached tokens included).
func (u *UsageMetadata) InputTokens() int64 { return u.PromptTokenCount + u.ToolUsePromptTokenCount }

// OutputTokens is what the model wrote, as every dialect counts it: the
// answer and its thoughts.
func (u *UsageMetadata) OutputTokens() int64 { return u.CandidatesTokenCount + u.ThoughtsTokenCount }

// TotalTokens is TotalTokenCount, or input + output when Gemini sent none.
func (u *UsageMetadata) TotalTokens() int64 {
	if u.TotalTokenCount == 0 {
		return u.InputTokens() + u.OutputTokens()
	}
	return u.TotalTokenCount
}

// ModalityTokenCount is a token count for one modality (TEXT, IMAGE, ...).
type ModalityTokenCount struct {
	Modality   string `json:"modality"`
	TokenCount int64  `json:"tokenCount"`
}

// EmbedContentRequest is the body of models/{model}:embedContent, and one
// entry of a batch (then Model, "models/{model}", is required).
type EmbedContentRequest struct {
	Model                string  `json:"model,omitempty"`
	Content              Content `json:"content"`
	TaskType             string  `json:"taskType,omitempty"`
	Title                string  `json:"title,omitempty"`
	OutputDimensionality *int    `json:"outputDimensionality,omitempty"`
}

// EmbedContentResponse is the answer of embedContent.
type EmbedContentResponse struct {
	Embedding ContentEmbedding `json:"embedding"`
}

// BatchEmbedContentsRequest is the body of models/{model}:batchEmbedContents.
type BatchEmbedContentsRequest struct {
	Requests []EmbedContentRequest `json:"requests"`
}

// BatchEmbedContentsResponse holds one embedding per request, in order.
// UsageMetadata is optional (not every model reports it).
type BatchEmbedContentsResponse struct {
	Embeddings    []ContentEmbedding `json:"embeddings"`
	UsageMetadata *UsageMetadata     `json:"usageMetadata,omitempty"`
}

// ContentEmbedding is one embedding vector.
type ContentEmbedding struct {
	Values []float32 `json:"values"`
}

// Model is one entry of the models list (or the answer of models.get).
type Model struct {
	Name                       string   `json:"name"`
	BaseModelID                string   `json:"baseModelId,omitempty"`
	Version                    string   `json:"version,omitempty"`
	DisplayName                string   `json:"displayName,omitempty"`
	Description                string   `json:"description,omitempty"`
	InputTokenLimit            int      `json:"inputTokenLimit,omitempty"`
	OutputTokenLimit           int      `json:"outputTokenLimit,omitempty"`
	SupportedGenerationMethods []string `json:"supportedGenerationMethods,omitempty"`
	Temperature                *float64 `json:"temperature,omitempty"`
	MaxTemperature             *float64 `json:"maxTemperature,omitempty"`
	TopP                       *float64 `json:"topP,omitempty"`
	TopK                       *int     `json:"topK,omitempty"`
	Thinking                   bool     `json:"thinking,omitempty"`
}

// ListModelsResponse is one page of GET /v1beta/models.
type ListModelsResponse struct {
	Models        []Model `json:"models"`
	NextPageToken string  `json:"nextPageToken,omitempty"`
}

var usageKey = []byte(`"usageMetadata"`)

// UsageOf extracts the usage metadata from a generateContent body, one SSE
// event's data, or a whole streamGenerateContent JSON array (the last usage
// wins, as it is the final one). It does not decode the candidates. ok is
// false when the body carries no usage.
func UsageOf(body []byte) (UsageMetadata, bool) {
	if i := bytes.LastIndex(body, usageKey); i >= 0 {
		rest := bytes.TrimLeft(body[i+len(usageKey):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			var u UsageMetadata
			dec := json.NewDecoder(bytes.NewReader(rest[1:]))
			if err := dec.Decode(&u); err == nil {
				return u, true
			}
		}
	}
	// Slow path: the key may have been found inside a string, or not be
	// where the fast path expects it. Decode properly.
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var arr []struct {
			UsageMetadata *UsageMetadata `json:"usageMetadata"`
		}
		if json.Unmarshal(body, &arr) != nil {
			return UsageMetadata{}, false
		}
		for i := len(arr) - 1; i >= 0; i-- {
			if arr[i].UsageMetadata != nil {
				return *arr[i].UsageMetadata, true
			}
		}
		return UsageMetadata{}, false
	}
	var one struct {
		UsageMetadata *UsageMetadata `json:"usageMetadata"`
	}
	if json.Unmarshal(body, &one) != nil || one.UsageMetadata == nil {
		return UsageMetadata{}, false
	}
	return *one.UsageMetadata, true
}

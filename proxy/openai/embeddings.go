package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// ParseEmbeddingRequest decodes a /v1/embeddings body and its input (a
// string or an array of strings) into Inputs. Token arrays are a 400: Gemini
// embeds text only.
func ParseEmbeddingRequest(data []byte) (*EmbeddingRequest, error) {
	var req EmbeddingRequest
	if e := decodeBody(data, &req); e != nil {
		return nil, e
	}
	if req.Model == "" {
		return nil, invalid("model", "model is required")
	}
	switch req.EncodingFormat {
	case "", "float", "base64":
	default:
		return nil, invalid("encoding_format", "encoding_format %q is not supported; use float or base64", req.EncodingFormat)
	}
	if req.Dimensions != nil && *req.Dimensions < 1 {
		return nil, invalid("dimensions", "dimensions must be at least 1")
	}
	raw := bytes.TrimSpace(req.Input)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, invalid("input", "input is required")
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, invalid("input", "input must be a string or an array of strings")
		}
		req.Inputs = []string{s}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil, invalid("input", "input must be a string or an array of strings")
		}
		if len(items) == 0 {
			return nil, invalid("input", "input must not be an empty array")
		}
		req.Inputs = make([]string, len(items))
		for i, it := range items {
			it = bytes.TrimSpace(it)
			if len(it) == 0 || it[0] != '"' {
				return nil, invalid(fmt.Sprintf("input[%d]", i), "input[%d] is not a string: token arrays are not supported by Gemini embeddings; send text", i)
			}
			if json.Unmarshal(it, &req.Inputs[i]) != nil {
				return nil, invalid(fmt.Sprintf("input[%d]", i), "input[%d] is not a valid string", i)
			}
		}
	default:
		return nil, invalid("input", "input must be a string or an array of strings")
	}
	for i, s := range req.Inputs {
		if s == "" {
			return nil, invalid(fmt.Sprintf("input[%d]", i), "input[%d] is empty; Gemini cannot embed an empty string", i)
		}
	}
	return &req, nil
}

func (r *EmbeddingRequest) taskType() string {
	switch {
	case r.TaskType != "":
		return r.TaskType
	case r.Google != nil && r.Google.TaskType != "":
		return r.Google.TaskType
	case r.ExtraBody != nil && r.ExtraBody.Google != nil:
		return r.ExtraBody.Google.TaskType
	}
	return ""
}

// ToGeminiEmbeddings builds the batchEmbedContents body for a parsed request;
// model is the resolved Gemini model id (see ResolveModel). dimensions maps
// to outputDimensionality, task_type to taskType. Gemini takes at most 100
// requests per batch; larger inputs are rejected upstream.
func ToGeminiEmbeddings(req *EmbeddingRequest, model string) *gemini.BatchEmbedContentsRequest {
	out := &gemini.BatchEmbedContentsRequest{Requests: make([]gemini.EmbedContentRequest, len(req.Inputs))}
	tt := req.taskType()
	for i, s := range req.Inputs {
		out.Requests[i] = gemini.EmbedContentRequest{
			Model:                "models/" + model,
			Content:              gemini.Content{Parts: []gemini.Part{{Text: s}}},
			TaskType:             tt,
			OutputDimensionality: req.Dimensions,
		}
	}
	return out
}

// FromGeminiEmbeddings translates a batchEmbedContents answer. Vectors are
// float arrays, or for encoding_format base64 the little-endian float32
// bytes in base64 (what the OpenAI SDKs decode). Usage comes from Gemini when
// it reports it, else it is estimated as one token per 4 bytes of input. An
// answer with the wrong number of vectors is a 502.
func FromGeminiEmbeddings(resp *gemini.BatchEmbedContentsResponse, req *EmbeddingRequest, model string) (*EmbeddingResponse, error) {
	if len(resp.Embeddings) != len(req.Inputs) {
		return nil, &Error{Status: http.StatusBadGateway, Type: "server_error",
			Message: fmt.Sprintf("the upstream returned %d embeddings for %d inputs", len(resp.Embeddings), len(req.Inputs))}
	}
	out := &EmbeddingResponse{Object: "list", Model: model, Data: make([]Embedding, len(resp.Embeddings))}
	for i, e := range resp.Embeddings {
		var v any = e.Values
		if e.Values == nil {
			v = []float32{}
		}
		if req.EncodingFormat == "base64" {
			v = Float32Base64(e.Values)
		}
		out.Data[i] = Embedding{Object: "embedding", Index: i, Embedding: v}
	}
	if resp.UsageMetadata != nil && resp.UsageMetadata.PromptTokenCount > 0 {
		out.Usage.PromptTokens = resp.UsageMetadata.PromptTokenCount
	} else {
		for _, s := range req.Inputs {
			out.Usage.PromptTokens += int64((len(s) + 3) / 4)
		}
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	return out, nil
}

// Float32Base64 encodes a vector as base64 of its little-endian float32s.
func Float32Base64(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(b)
}

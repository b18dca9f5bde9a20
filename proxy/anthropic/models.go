package anthropic

import (
	"slices"
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// ModelInfo is one entry of GET /v1/models in Anthropic's shape.
type ModelInfo struct {
	Type        string `json:"type"` // "model"
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

// ModelList is the answer of GET /v1/models: every model on one page.
type ModelList struct {
	Data    []ModelInfo `json:"data"`
	HasMore bool        `json:"has_more"`
	FirstID *string     `json:"first_id"`
	LastID  *string     `json:"last_id"`
}

// modelEpoch is created_at for every model: Gemini does not say when a
// model was released.
const modelEpoch = "1970-01-01T00:00:00Z"

// FromGeminiModel maps one Gemini model: its id without "models/", its
// display name.
func FromGeminiModel(m gemini.Model) ModelInfo {
	id := strings.TrimPrefix(m.Name, "models/")
	name := m.DisplayName
	if name == "" {
		name = id
	}
	return ModelInfo{Type: "model", ID: id, DisplayName: name, CreatedAt: modelEpoch}
}

// FromGeminiModels merges every page of Gemini's models list, in order and
// without duplicates, keeping the models that generate content (the ones a
// Messages client can use).
func FromGeminiModels(pages ...gemini.ListModelsResponse) ModelList {
	out := ModelList{Data: []ModelInfo{}}
	seen := map[string]bool{}
	for _, p := range pages {
		for _, m := range p.Models {
			if len(m.SupportedGenerationMethods) > 0 && !slices.Contains(m.SupportedGenerationMethods, "generateContent") {
				continue
			}
			mi := FromGeminiModel(m)
			if mi.ID == "" || seen[mi.ID] {
				continue
			}
			seen[mi.ID] = true
			out.Data = append(out.Data, mi)
		}
	}
	if n := len(out.Data); n > 0 {
		out.FirstID, out.LastID = &out.Data[0].ID, &out.Data[n-1].ID
	}
	return out
}

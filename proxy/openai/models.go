package openai

import (
	"strings"

	"github.com/gemini-balance/desktop/proxy/gemini"
)

// FromGeminiModel translates one Gemini model: the id without "models/",
// owned_by "google", created 0 (Gemini does not say).
func FromGeminiModel(m gemini.Model) ModelObject {
	return ModelObject{ID: strings.TrimPrefix(m.Name, "models/"), Object: "model", OwnedBy: "google"}
}

// FromGeminiModels merges every page of the Gemini models list, in order,
// without duplicates.
func FromGeminiModels(pages ...gemini.ListModelsResponse) ModelList {
	out := ModelList{Object: "list", Data: []ModelObject{}}
	seen := map[string]bool{}
	for _, p := range pages {
		for _, m := range p.Models {
			mo := FromGeminiModel(m)
			if mo.ID == "" || seen[mo.ID] {
				continue
			}
			seen[mo.ID] = true
			out.Data = append(out.Data, mo)
		}
	}
	return out
}

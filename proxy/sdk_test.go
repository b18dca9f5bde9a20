package proxy

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"google.golang.org/genai"
)

// The official Go SDKs against the running proxy.

func TestGoGenAISDK(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	client, err := genai.NewClient(ctx, &genai.ClientConfig{
		APIKey:      e.accessKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: e.base + "/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("Hi"), nil)
	if err != nil {
		t.Fatalf("GenerateContent: %v", err)
	}
	if resp.Text() == "" {
		t.Errorf("GenerateContent: empty text")
	}
	var streamed strings.Builder
	for chunk, err := range client.Models.GenerateContentStream(ctx, "gemini-2.5-flash", genai.Text("Hi"), nil) {
		if err != nil {
			t.Fatalf("GenerateContentStream: %v", err)
		}
		streamed.WriteString(chunk.Text())
	}
	if streamed.Len() == 0 {
		t.Errorf("GenerateContentStream: no text")
	}
	ct, err := client.Models.CountTokens(ctx, "gemini-2.5-flash", genai.Text("Hi"), nil)
	if err != nil || ct.TotalTokens == 0 {
		t.Errorf("CountTokens = %+v, %v", ct, err)
	}
	emb, err := client.Models.EmbedContent(ctx, "text-embedding-004", genai.Text("Hi"), nil)
	if err != nil || len(emb.Embeddings) != 1 || len(emb.Embeddings[0].Values) == 0 {
		t.Errorf("EmbedContent = %+v, %v", emb, err)
	}
	page, err := client.Models.List(ctx, nil)
	if err != nil || len(page.Items) == 0 {
		t.Errorf("Models.List = %d items, %v", len(page.Items), err)
	}
}

func TestGoOpenAISDK(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	client := openai.NewClient(option.WithAPIKey(e.accessKey), option.WithBaseURL(e.base+"/v1/"), option.WithMaxRetries(0))
	chat, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "gemini-2.5-flash",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
	})
	if err != nil {
		t.Fatalf("Chat.Completions.New: %v", err)
	}
	if len(chat.Choices) != 1 || chat.Choices[0].Message.Content == "" {
		t.Errorf("chat = %+v", chat)
	}
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "gemini-2.5-flash",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].Message.Content == "" || acc.Usage.TotalTokens == 0 {
		t.Errorf("accumulated stream = %+v", acc.ChatCompletion)
	}
	emb, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "text-embedding-004",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
	})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[0].Embedding) == 0 {
		t.Errorf("Embeddings.New = %+v, %v", emb, err)
	}
	models, err := client.Models.List(ctx)
	if err != nil || len(models.Data) == 0 {
		t.Errorf("Models.List: %v", err)
	}
}

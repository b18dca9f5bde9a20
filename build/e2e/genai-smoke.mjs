// Smoke test with the official Google GenAI SDK (@google/genai, pinned in package.json).
// Run by Go tests through e2etest.RunNode:
//   BASE_URL  the proxy's Gemini Base URL, e.g. http://127.0.0.1:8321 (required)
//   API_KEY   the proxy's access key (required)
//   MODEL     model name (default gemini-2.5-flash)
//   PROMPT    prompt text (default "Say hello.")
// Prints one JSON object on stdout: {"text", "finishReason", "usageMetadata", "modelVersion"}.
// On failure prints {"error", "status"} on stdout and exits 1.
import { GoogleGenAI } from '@google/genai'

const baseUrl = process.env.BASE_URL
const apiKey = process.env.API_KEY
if (!baseUrl || !apiKey) {
  console.error('genai-smoke.mjs: BASE_URL and API_KEY must be set')
  process.exit(2)
}

const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl } })

try {
  const res = await ai.models.generateContent({
    model: process.env.MODEL || 'gemini-2.5-flash',
    contents: process.env.PROMPT || 'Say hello.',
  })
  console.log(
    JSON.stringify({
      text: res.text ?? '',
      finishReason: res.candidates?.[0]?.finishReason ?? null,
      usageMetadata: res.usageMetadata ?? null,
      modelVersion: res.modelVersion ?? null,
    }),
  )
} catch (err) {
  console.log(JSON.stringify({ error: String(err?.message ?? err), status: err?.status ?? null }))
  process.exit(1)
}

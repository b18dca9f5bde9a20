// End-to-end run of the official Google GenAI SDK (@google/genai, pinned in package.json)
// against the proxy's native Gemini routes. Run by Go tests through e2etest.RunNode
// (proxy/node_clients_test.go).
//
// Environment:
//   BASE_URL     the proxy's Gemini Base URL, e.g. http://127.0.0.1:8321 (required)
//   API_KEY      the proxy's access key (required; the SDK sends it as x-goog-api-key)
//   MODEL        model (default gemini-2.5-flash)
//   EMBED_MODEL  embedding model (default text-embedding-004)
//   EMBED_DIMS   outputDimensionality asked for and expected (default 16)
//   PAGE_SIZE    models.list page size, small so that the pager follows pageTokens (default 4)
//   CASES        comma-separated cases (default: all): generate, stream, count, embed, models
//
// Prints one JSON object on stdout, one member per case. On the first failure it prints
// {"error", "case", "status"} on stdout and exits 1. The API key is never printed.
import { GoogleGenAI } from '@google/genai'
import { check, runCases, selectCases } from './sdkcases.mjs'

const baseUrl = process.env.BASE_URL
const apiKey = process.env.API_KEY
if (!baseUrl || !apiKey) {
  console.error('genai-client.mjs: BASE_URL and API_KEY must be set')
  process.exit(2)
}
const model = process.env.MODEL || 'gemini-2.5-flash'
const embedModel = process.env.EMBED_MODEL || 'text-embedding-004'
const embedDims = Number(process.env.EMBED_DIMS || 16)
const pageSize = Number(process.env.PAGE_SIZE || 4)
const allCases = ['generate', 'stream', 'count', 'embed', 'models']
const cases = selectCases('genai-client.mjs', allCases, allCases)

const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl } })

const run = {
  async generate() {
    const res = await ai.models.generateContent({
      model,
      contents: 'Say hello.',
      config: { systemInstruction: 'Be brief.', temperature: 0.2 },
    })
    check(typeof res.text === 'string' && res.text !== '', 'generateContent: empty text')
    const finishReason = res.candidates?.[0]?.finishReason ?? null
    check(finishReason === 'STOP', `generateContent: finishReason = ${finishReason}`)
    check(res.usageMetadata?.totalTokenCount > 0, `generateContent: usageMetadata = ${JSON.stringify(res.usageMetadata)}`)
    return { text: res.text, finishReason, usageMetadata: res.usageMetadata, modelVersion: res.modelVersion ?? null }
  },

  async stream() {
    const stream = await ai.models.generateContentStream({ model, contents: 'Tell me a story.' })
    const texts = []
    let finishReason = null
    let usage = null
    for await (const chunk of stream) {
      texts.push(chunk.text ?? '')
      finishReason = chunk.candidates?.[0]?.finishReason ?? finishReason
      usage = chunk.usageMetadata ?? usage
    }
    check(texts.length > 1, `generateContentStream: ${texts.length} chunks, want several`)
    check(texts.join('') !== '', 'generateContentStream: no text')
    check(finishReason === 'STOP', `generateContentStream: last finishReason = ${finishReason}`)
    return { chunks: texts.length, text: texts.join(''), finishReason, usageMetadata: usage }
  },

  async count() {
    const res = await ai.models.countTokens({ model, contents: 'How many tokens is this?' })
    check(res.totalTokens > 0, `countTokens: ${JSON.stringify(res)}`)
    return { totalTokens: res.totalTokens }
  },

  async embed() {
    const res = await ai.models.embedContent({
      model: embedModel,
      contents: ['What is your name?', 'What is your favorite color?'],
      config: { outputDimensionality: embedDims, taskType: 'RETRIEVAL_DOCUMENT' },
    })
    const embs = res.embeddings ?? []
    check(embs.length === 2, `embedContent: ${embs.length} embeddings, want 2`)
    for (const [i, e] of embs.entries()) {
      check(Array.isArray(e.values) && e.values.length === embedDims, `embedContent: embeddings[${i}] has ${e.values?.length} values, want ${embedDims}`)
      check(e.values.every(Number.isFinite) && e.values.some((v) => v !== 0), `embedContent: embeddings[${i}] is not a usable vector`)
    }
    return { count: embs.length, lengths: embs.map((e) => e.values.length), head: embs[0].values.slice(0, 4) }
  },

  async models() {
    const pager = await ai.models.list({ config: { pageSize } })
    const names = []
    let pages = 1
    let lastPage = pager.page
    for await (const m of pager) {
      if (pager.page !== lastPage) {
        pages++
        lastPage = pager.page
      }
      check(typeof m.name === 'string' && m.name.startsWith('models/'), `models.list: entry ${JSON.stringify(m)}`)
      names.push(m.name)
    }
    check(names.length > 0, 'models.list: no models')
    check(new Set(names).size === names.length, `models.list: duplicate names ${JSON.stringify(names)}`)
    return { count: names.length, pages, names }
  },
}

await runCases('genai-client.mjs', cases, run)

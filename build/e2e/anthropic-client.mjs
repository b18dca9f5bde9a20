// End-to-end run of the official Anthropic Node SDK (@anthropic-ai/sdk, pinned in
// package.json) against the proxy's Anthropic Messages routes. Run by Go tests through
// e2etest.RunNode (proxy/anthropic_node_test.go).
//
// Environment:
//   BASE_URL  the proxy's root, e.g. http://127.0.0.1:8321 (required)
//   API_KEY   the proxy's access key (required; sent as x-api-key)
//   MODEL     model (default gemini-2.5-flash)
//   BASE_URL_2, API_KEY_2  where the tool cases send their second turn (default BASE_URL,
//             API_KEY): another proxy, which never saw the first answer
//   CASES     comma-separated cases, in this order (default: text,stream,count_tokens,tools,tools_stream):
//             text, stream, count_tokens, tools, tools_stream, error_429, stream_break
//
// The tool cases expect the upstream to answer the first turn with a function call to
// `now` (the Go test scripts the fake Gemini with a thinking+functionCall capture) and
// replay the assistant turn exactly as the SDK returned it, then send a tool_result.
// error_429 expects every upstream call to be rate limited (the SDK must raise a
// RateLimitError with Retry-After); stream_break expects the upstream stream to break off
// (the SDK must raise an APIError from the proxy's error event, not end quietly).
//
// Prints one JSON object on stdout, one member per case. On the first failure it prints
// {"error", "case", "status"} on stdout and exits 1. The API key is never printed.
import Anthropic from '@anthropic-ai/sdk'

const baseURL = process.env.BASE_URL
const apiKey = process.env.API_KEY
if (!baseURL || !apiKey) {
  console.error('anthropic-client.mjs: BASE_URL and API_KEY must be set')
  process.exit(2)
}
const model = process.env.MODEL || 'gemini-2.5-flash'
const cases = (process.env.CASES || 'text,stream,count_tokens,tools,tools_stream').split(',').map((s) => s.trim())
const client = new Anthropic({ apiKey, baseURL, maxRetries: 0 })
const client2 = new Anthropic({ apiKey: process.env.API_KEY_2 || apiKey, baseURL: process.env.BASE_URL_2 || baseURL, maxRetries: 0 })

const tools = [
  {
    name: 'now',
    description: 'The current date and time.',
    input_schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {}, additionalProperties: false },
  },
]
const question = [{ role: 'user', content: "How many days until New Year's Eve?" }]

function check(cond, msg) {
  if (!cond) throw new Error(msg)
}

function summary(msg) {
  return {
    stop_reason: msg.stop_reason,
    types: msg.content.map((b) => b.type),
    text: msg.content.filter((b) => b.type === 'text').map((b) => b.text).join(''),
    usage: msg.usage,
  }
}

async function toolRoundTrip(stream) {
  const params = { model, max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 }, tools, messages: question }
  const first = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params)
  const use = first.content.find((b) => b.type === 'tool_use')
  check(first.stop_reason === 'tool_use' && use, `first turn: ${JSON.stringify(first)}`)
  const signatures = first.content.filter((b) => b.type === 'thinking').map((b) => b.signature).filter(Boolean)
  const messages = [
    ...question,
    { role: 'assistant', content: first.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '2025-07-28T10:00:00Z' }] },
  ]
  const second = await client2.messages.create({ ...params, messages })
  return { tool: use.name, id: use.id, signatures, first: summary(first), second: summary(second) }
}

const run = {
  async text() {
    const msg = await client.messages.create({
      model,
      max_tokens: 1024,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Hi' }],
    })
    check(msg.type === 'message' && msg.content[0]?.type === 'text', `text: ${JSON.stringify(msg)}`)
    return summary(msg)
  },
  async stream() {
    const events = []
    const s = client.messages.stream({ model, max_tokens: 128000, messages: [{ role: 'user', content: 'Hi' }] })
    s.on('streamEvent', (ev) => events.push(ev.type))
    let deltas = ''
    s.on('text', (t) => (deltas += t))
    const msg = await s.finalMessage()
    check(deltas.length > 0 && deltas === summary(msg).text, `stream text ${JSON.stringify(deltas)}`)
    return { ...summary(msg), events }
  },
  async count_tokens() {
    const r = await client.messages.countTokens({ model, messages: [{ role: 'user', content: 'Hi' }] })
    return r
  },
  tools: () => toolRoundTrip(false),
  tools_stream: () => toolRoundTrip(true),
  async error_429() {
    try {
      await client.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
    } catch (err) {
      check(err instanceof Anthropic.RateLimitError, `error_429 raised ${err}`)
      return { status: err.status, type: err.error?.error?.type, retry_after: err.headers?.get('retry-after') }
    }
    throw new Error('error_429: the call succeeded')
  },
  async stream_break() {
    let text = ''
    try {
      const s = client.messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
      s.on('text', (t) => (text += t))
      await s.finalMessage()
    } catch (err) {
      check(err instanceof Anthropic.APIError, `stream_break raised ${err}`)
      return { text, message: err.message }
    }
    throw new Error('stream_break: the stream ended quietly')
  },
}

const out = {}
for (const c of cases) {
  try {
    out[c] = await run[c]()
  } catch (err) {
    console.log(JSON.stringify({ error: String(err?.message || err), case: c, status: err?.status }))
    process.exit(1)
  }
}
console.log(JSON.stringify(out))

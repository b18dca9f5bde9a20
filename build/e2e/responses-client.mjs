// End-to-end run of the official OpenAI Node SDK (openai, pinned in package.json) against the
// proxy's Responses API route (client.responses.create). Run by Go tests through
// e2etest.RunNode / TryNode (proxy/responses_node_test.go).
//
// Environment:
//   BASE_URL         the proxy's root (required; "/v1" is appended)
//   SECOND_BASE_URL  where the second turn of the tool cases goes (default BASE_URL); a
//                    second proxy shows the thought signature travels in the client's input
//   API_KEY          the proxy's access key (required; sent as Authorization: Bearer)
//   MODEL            model (default gemini-2.5-flash)
//   CASES            comma-separated cases (default: text,stream,tools,tools_stream):
//                    text, stream, tools, tools_stream, error_429, stream_break
//
// The tool cases expect the first upstream answer to be a function call to `now` with a
// thought signature. error_429 expects every upstream call to be rate limited; stream_break
// expects the upstream stream to break off after its first events.
//
// Prints one JSON object on stdout, one member per case. On the first failure it prints
// {"error", "case"} and exits 1. The API key is never printed.
import OpenAI from 'openai'

const baseUrl = process.env.BASE_URL
const apiKey = process.env.API_KEY
if (!baseUrl || !apiKey) {
  console.error('responses-client.mjs: BASE_URL and API_KEY must be set')
  process.exit(2)
}
const model = process.env.MODEL || 'gemini-2.5-flash'
const known = ['text', 'stream', 'tools', 'tools_stream', 'error_429', 'stream_break']
const cases = (process.env.CASES || 'text,stream,tools,tools_stream').split(',').map((s) => s.trim()).filter(Boolean)
for (const c of cases) {
  if (!known.includes(c)) {
    console.error(`responses-client.mjs: unknown case ${JSON.stringify(c)}`)
    process.exit(2)
  }
}
const clientFor = (url) => new OpenAI({ apiKey, baseURL: `${url.replace(/\/+$/, '')}/v1`, maxRetries: 0, timeout: 60_000 })
const client = clientFor(baseUrl)
const second = clientFor(process.env.SECOND_BASE_URL || baseUrl)

class CheckError extends Error {}
function check(cond, msg) {
  if (!cond) throw new CheckError(msg)
}

const nowTool = { type: 'function', name: 'now', description: 'Returns the current date and time.', parameters: { type: 'object', properties: {} }, strict: false }
const question = 'How many days until New Year’s Eve?'

async function collect(stream) {
  const types = []
  let text = ''
  let final = null
  let seq = -1
  for await (const ev of stream) {
    types.push(ev.type)
    check(ev.sequence_number === seq + 1, `sequence_number ${ev.sequence_number} after ${seq}`)
    seq = ev.sequence_number
    if (ev.type === 'response.output_text.delta') text += ev.delta
    if (ev.type === 'response.completed' || ev.type === 'response.failed' || ev.type === 'response.incomplete') final = ev.response
  }
  return { types, text, final }
}

async function toolRoundTrip(streamed) {
  const params = { model, input: question, tools: [nowTool], store: false, include: ['reasoning.encrypted_content'], reasoning: { summary: 'auto' } }
  let first
  if (streamed) {
    const r = await collect(await client.responses.create({ ...params, stream: true }))
    check(r.types.includes('response.function_call_arguments.done'), `no function_call_arguments.done in ${r.types}`)
    first = r.final
  } else {
    first = await client.responses.create(params)
  }
  const reasoning = first.output.find((i) => i.type === 'reasoning')
  const call = first.output.find((i) => i.type === 'function_call')
  check(reasoning && typeof reasoning.encrypted_content === 'string' && reasoning.encrypted_content.length > 0, `no reasoning item with encrypted_content: ${JSON.stringify(first.output)}`)
  check(call && call.name === 'now' && call.call_id && JSON.parse(call.arguments) !== null, `no function_call now: ${JSON.stringify(first.output)}`)
  const next = await second.responses.create({
    ...params,
    input: [{ role: 'user', content: question }, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: JSON.stringify({ now: '2025-12-30T10:00:00Z' }) }],
  })
  check(next.status === 'completed' && next.output_text.length > 0, `second turn: ${JSON.stringify(next)}`)
  return { callId: call.call_id, reasoningItems: first.output.filter((i) => i.type === 'reasoning').length, answer: next.output_text.slice(0, 40) }
}

const out = {}
let current = ''
try {
  for (const c of cases) {
    current = c
    switch (c) {
      case 'text': {
        const r = await client.responses.create({ model, instructions: 'Be brief.', input: 'Hi' })
        check(r.object === 'response' && r.status === 'completed', `status ${r.status}`)
        check(r.output_text.length > 0, 'empty output_text')
        check(r.usage && r.usage.input_tokens > 0 && r.usage.total_tokens > 0, `usage ${JSON.stringify(r.usage)}`)
        out.text = { id: r.id, text: r.output_text.slice(0, 40), usage: r.usage }
        break
      }
      case 'stream': {
        const r = await collect(await client.responses.create({ model, input: 'Hi', stream: true }))
        check(r.types[0] === 'response.created' && r.types[1] === 'response.in_progress', `first events ${r.types.slice(0, 2)}`)
        check(r.types.at(-1) === 'response.completed', `last event ${r.types.at(-1)}`)
        const done = r.final.output.find((i) => i.type === 'message')
        check(done && done.content[0].text === r.text, `completed text differs from the deltas`)
        out.stream = { events: r.types.length, text: r.text.slice(0, 40), usage: r.final.usage }
        break
      }
      case 'tools':
        out.tools = await toolRoundTrip(false)
        break
      case 'tools_stream':
        out.tools_stream = await toolRoundTrip(true)
        break
      case 'error_429': {
        try {
          await client.responses.create({ model, input: 'Hi' })
          throw new CheckError('no error for a rate-limited pool')
        } catch (e) {
          if (e instanceof CheckError) throw e
          check(e instanceof OpenAI.RateLimitError, `error ${e?.constructor?.name}: ${e?.message}`)
          out.error_429 = { status: e.status, type: e.type ?? e.error?.type, retryAfter: e.headers?.get('retry-after') ?? null }
        }
        break
      }
      case 'stream_break': {
        const r = await collect(await client.responses.create({ model, input: 'Hi', stream: true }))
        check(!r.types.includes('response.completed'), 'a broken stream ended with response.completed')
        out.stream_break = { last: r.types.at(-1), status: r.final?.status ?? null, code: r.final?.error?.code ?? null, text: r.text }
        break
      }
    }
  }
  console.log(JSON.stringify(out))
} catch (e) {
  console.log(JSON.stringify({ error: String(e?.message ?? e), case: current }))
  process.exit(1)
}

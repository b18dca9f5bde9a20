// End-to-end run of the official OpenAI Node SDK (openai, pinned in package.json) against the
// proxy's OpenAI-compatible routes. Run by Go tests through e2etest.RunNode
// (proxy/node_clients_test.go).
//
// Environment:
//   BASE_URL     the proxy's root, e.g. http://127.0.0.1:8321 (required; "/v1" is appended)
//   API_KEY      the proxy's access key (required; sent as Authorization: Bearer)
//   MODEL        chat model (default gemini-2.5-flash)
//   EMBED_MODEL  embeddings model (default text-embedding-004)
//   EMBED_DIMS   expected embedding length (default 768, the fake's size for text-embedding-004)
//   IMAGE_B64    base64 PNG for the data-URI image case (default: a built-in 1×1 PNG)
//   IMAGE_URL    http(s) image URL for the image_url case (required by that case)
//   CASES        comma-separated cases to run, in this order (default: all):
//                chat, stream, tools, tools_stream, run_tools, run_tools_stream, replay_stripped,
//                image_data, image_url, embeddings, models, error_429, stream_break
//   TOOL_CALL_ID the tool call id replay_stripped replays (default call_from_elsewhere)
//
// error_429 expects every upstream call to be rate limited (the SDK must raise a
// RateLimitError); stream_break expects the upstream stream to break off after its first
// event (the SDK must raise an APIError from the proxy's error event, not end quietly).
// Neither is part of the default CASES.
//
// The tool cases expect the upstream to answer the first turn with a function call to `now`
// (the Go test scripts the fake Gemini with a thinking+functionCall capture); every other
// call may get any text answer.
//
// Prints one JSON object on stdout, one member per case. On the first failure it prints
// {"error", "case", "status"} on stdout and exits 1. The API key is never printed.
import OpenAI from 'openai'
import { CheckError, check, runCases, selectCases } from './sdkcases.mjs'

const baseUrl = process.env.BASE_URL
const apiKey = process.env.API_KEY
if (!baseUrl || !apiKey) {
  console.error('openai-client.mjs: BASE_URL and API_KEY must be set')
  process.exit(2)
}
const model = process.env.MODEL || 'gemini-2.5-flash'
const embedModel = process.env.EMBED_MODEL || 'text-embedding-004'
const embedDims = Number(process.env.EMBED_DIMS || 768)
// A 1×1 transparent PNG.
const pngB64 =
  process.env.IMAGE_B64 ||
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
const defaultCases = [
  'chat',
  'stream',
  'tools',
  'tools_stream',
  'run_tools',
  'run_tools_stream',
  'replay_stripped',
  'image_data',
  'image_url',
  'embeddings',
  'models',
]
const allCases = [...defaultCases, 'error_429', 'stream_break']
const cases = selectCases('openai-client.mjs', defaultCases, allCases)

const clientOptions = { apiKey, baseURL: `${baseUrl.replace(/\/+$/, '')}/v1`, maxRetries: 0, timeout: 60_000 }
const client = new OpenAI(clientOptions)

// recordingClient returns a client that also keeps the JSON body of every request it sends.
function recordingClient() {
  const bodies = []
  const c = new OpenAI({
    ...clientOptions,
    fetch: (url, init) => {
      if (typeof init?.body === 'string') bodies.push(JSON.parse(init.body))
      return fetch(url, init)
    },
  })
  return { client: c, bodies }
}

const nowTool = {
  type: 'function',
  function: {
    name: 'now',
    description: 'Returns the current date and time.',
    parameters: { type: 'object', properties: {} },
  },
}
const nowResult = JSON.stringify({ now: '2025-12-30T10:00:00Z' })
const toolQuestion = 'How many days until New Year’s Eve?'

// checkToolCall checks an assistant message that should call now() with its signature.
function checkToolCall(message, finishReason, where) {
  check(finishReason === 'tool_calls', `${where}: finish_reason = ${JSON.stringify(finishReason)}, want "tool_calls"`)
  const calls = message.tool_calls ?? []
  check(calls.length === 1, `${where}: ${calls.length} tool calls, want 1: ${JSON.stringify(message)}`)
  const tc = calls[0]
  check(tc.type === 'function' && tc.function?.name === 'now', `${where}: tool call = ${JSON.stringify(tc)}, want now()`)
  check(typeof tc.id === 'string' && tc.id !== '', `${where}: tool call without id`)
  let args
  try {
    args = JSON.parse(tc.function.arguments)
  } catch (e) {
    throw new CheckError(`${where}: arguments ${JSON.stringify(tc.function.arguments)} are not JSON: ${e.message}`)
  }
  check(args && typeof args === 'object' && !Array.isArray(args), `${where}: arguments = ${tc.function.arguments}, want an object`)
  const sig = tc.extra_content?.google?.thought_signature
  check(typeof sig === 'string' && sig.length > 0, `${where}: tool call has no extra_content.google.thought_signature`)
  return { id: tc.id, name: tc.function.name, arguments: tc.function.arguments, thoughtSignature: sig }
}

const run = {
  async chat() {
    const res = await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    })
    check(res.object === 'chat.completion', `object = ${JSON.stringify(res.object)}`)
    check(res.choices.length === 1, `${res.choices.length} choices, want 1`)
    const c = res.choices[0]
    check(typeof c.message.content === 'string' && c.message.content !== '', 'empty content')
    check(c.message.role === 'assistant', `role = ${c.message.role}`)
    check(c.finish_reason === 'stop', `finish_reason = ${c.finish_reason}`)
    check(res.usage?.total_tokens > 0, `usage = ${JSON.stringify(res.usage)}`)
    return {
      id: res.id,
      model: res.model,
      content: c.message.content,
      finishReason: c.finish_reason,
      usage: res.usage,
      requestId: res._request_id ?? null,
    }
  },

  async stream() {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let chunks = 0
    let role = null
    let finishReason = null
    let usage = null
    let usageChunkLast = false
    for await (const chunk of stream) {
      chunks++
      check(chunk.object === 'chat.completion.chunk', `chunk object = ${JSON.stringify(chunk.object)}`)
      check(usage === null, `a chunk came after the usage chunk: ${JSON.stringify(chunk)}`)
      if (chunk.usage) {
        check(chunk.choices.length === 0, `usage chunk has choices: ${JSON.stringify(chunk)}`)
        usage = chunk.usage
        usageChunkLast = true
        continue
      }
      for (const c of chunk.choices) {
        if (c.delta?.role) role = c.delta.role
        if (c.delta?.content) text += c.delta.content
        if (c.finish_reason) finishReason = c.finish_reason
      }
    }
    check(role === 'assistant', `no assistant role delta (got ${JSON.stringify(role)})`)
    check(text !== '', 'streamed no text')
    check(finishReason === 'stop', `finish_reason = ${finishReason}`)
    check(usage && usage.total_tokens > 0 && usage.prompt_tokens > 0, `usage chunk = ${JSON.stringify(usage)}`)
    return { text, chunks, finishReason, usage, usageChunkLast }
  },

  async tools() {
    const messages = [{ role: 'user', content: toolQuestion }]
    const first = await client.chat.completions.create({ model, messages, tools: [nowTool] })
    const msg = first.choices[0]?.message
    check(msg, 'turn 1: no choice')
    const call = checkToolCall(msg, first.choices[0].finish_reason, 'turn 1')
    // Replay the assistant message exactly as the SDK returned it (extra_content included).
    messages.push(msg, { role: 'tool', tool_call_id: call.id, content: nowResult })
    const second = await client.chat.completions.create({ model, messages, tools: [nowTool] })
    const c = second.choices[0]
    check(c && typeof c.message.content === 'string' && c.message.content !== '', 'turn 2: empty content')
    check(c.finish_reason === 'stop', `turn 2: finish_reason = ${c.finish_reason}`)
    return {
      call,
      reasoning: typeof msg.reasoning_content === 'string' ? msg.reasoning_content.length : 0,
      usage: first.usage,
      answer: c.message.content,
    }
  },

  async tools_stream() {
    const messages = [{ role: 'user', content: toolQuestion }]
    // The SDK's streaming helper accumulates the deltas into a ChatCompletion.
    const runner = client.chat.completions.stream({ model, messages, tools: [nowTool], stream_options: { include_usage: true } })
    let chunks = 0
    let reasoningDeltas = 0
    for await (const chunk of runner) {
      chunks++
      for (const c of chunk.choices) if (c.delta?.reasoning_content) reasoningDeltas++
    }
    const first = await runner.finalChatCompletion()
    const msg = first.choices[0].message
    const call = checkToolCall(msg, first.choices[0].finish_reason, 'stream turn 1')
    check(first.usage?.total_tokens > 0, `stream turn 1: usage = ${JSON.stringify(first.usage)}`)
    messages.push(msg, { role: 'tool', tool_call_id: call.id, content: nowResult })
    const stream = await client.chat.completions.create({ model, messages, tools: [nowTool], stream: true })
    let text = ''
    let finishReason = null
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        if (c.delta?.content) text += c.delta.content
        if (c.finish_reason) finishReason = c.finish_reason
      }
    }
    check(text !== '', 'stream turn 2: no text')
    check(finishReason === 'stop', `stream turn 2: finish_reason = ${finishReason}`)
    return { call, chunks, reasoningDeltas, usage: first.usage, answer: text }
  },

  // runTools is the SDK's automatic tool loop. It replays assistant messages through
  // toRequestMessage, which keeps only the standard fields: extra_content (the thought
  // signature) does not come back, so the proxy has to restore it from the tool call id.
  // What the proxy sent upstream is checked by the Go test.
  async run_tools() {
    return runTools(false)
  },

  async run_tools_stream() {
    return runTools(true)
  },

  // replay_stripped sends a history whose assistant tool call (TOOL_CALL_ID) has no
  // extra_content, as a client does after the proxy restarted or when the history came
  // from elsewhere: the proxy cannot know the signature and must still get an answer.
  async replay_stripped() {
    const id = process.env.TOOL_CALL_ID || 'call_from_elsewhere'
    const res = await client.chat.completions.create({
      model,
      tools: [nowTool],
      messages: [
        { role: 'user', content: toolQuestion },
        { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'now', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: id, content: nowResult },
      ],
    })
    const c = res.choices[0]
    check(c && typeof c.message.content === 'string' && c.message.content !== '', 'replay_stripped: empty content')
    check(c.finish_reason === 'stop', `replay_stripped: finish_reason = ${c.finish_reason}`)
    return { id, answer: c.message.content }
  },

  async image_data() {
    const res = await client.chat.completions.create({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${pngB64}`, detail: 'low' } },
          ],
        },
      ],
    })
    const c = res.choices[0]
    check(c && c.message.content, 'image (data URI): empty content')
    return { content: c.message.content, finishReason: c.finish_reason }
  },

  async image_url() {
    const url = process.env.IMAGE_URL
    check(url, 'image_url: IMAGE_URL is not set')
    const res = await client.chat.completions.create({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe the image.' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    })
    const c = res.choices[0]
    check(c && c.message.content, 'image (http URL): empty content')
    return { content: c.message.content, finishReason: c.finish_reason }
  },

  async embeddings() {
    // No encoding_format: the SDK asks for base64 and decodes it to float32 itself.
    const res = await client.embeddings.create({ model: embedModel, input: ['first text', 'second text'] })
    check(res.object === 'list', `object = ${JSON.stringify(res.object)}`)
    check(res.data.length === 2, `${res.data.length} embeddings, want 2`)
    const out = []
    for (const [i, d] of res.data.entries()) {
      check(d.index === i, `data[${i}].index = ${d.index}`)
      check(Array.isArray(d.embedding), `data[${i}].embedding is ${typeof d.embedding}, want a decoded array`)
      check(d.embedding.length === embedDims, `data[${i}].embedding has ${d.embedding.length} values, want ${embedDims}`)
      check(d.embedding.every((v) => Number.isFinite(v)), `data[${i}].embedding has non-finite values`)
      check(d.embedding.some((v) => v !== 0), `data[${i}].embedding is all zeros`)
      out.push({ index: d.index, length: d.embedding.length, head: d.embedding.slice(0, 4) })
    }
    check(res.usage && typeof res.usage.prompt_tokens === 'number', `usage = ${JSON.stringify(res.usage)}`)
    return { model: res.model, data: out, usage: res.usage }
  },

  async models() {
    const ids = []
    for await (const m of client.models.list()) {
      check(m.object === 'model', `model object = ${JSON.stringify(m)}`)
      ids.push(m.id)
    }
    check(ids.length > 0, 'no models')
    const one = await client.models.retrieve(model)
    check(one.id === model, `retrieve(${model}).id = ${one.id}`)
    return { ids, retrieved: one }
  },

  async error_429() {
    try {
      await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] })
    } catch (err) {
      check(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err?.message}, want a RateLimitError`)
      check(err.status === 429, `status = ${err.status}`)
      check(typeof err.error?.message === 'string' && err.error.message !== '', `error body = ${JSON.stringify(err.error)}`)
      return {
        status: err.status,
        type: err.type ?? null,
        code: err.code ?? null,
        message: err.error.message,
        retryAfter: err.headers?.get('retry-after') ?? null,
      }
    }
    throw new CheckError('the request succeeded, want a 429')
  },

  async stream_break() {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    })
    let text = ''
    try {
      for await (const chunk of stream) {
        for (const c of chunk.choices) if (c.delta?.content) text += c.delta.content
      }
    } catch (err) {
      check(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}, want an APIError`)
      return { text, error: err.message, type: err.type ?? null }
    }
    throw new CheckError(`the broken stream ended without an error (text ${JSON.stringify(text)})`)
  },
}

async function runTools(stream) {
  const where = stream ? 'runTools (stream)' : 'runTools'
  let called = 0
  const { client, bodies } = recordingClient()
  const runner = client.chat.completions.runTools({
    model,
    stream,
    messages: [{ role: 'user', content: toolQuestion }],
    tools: [
      {
        type: 'function',
        function: {
          ...nowTool.function,
          function: async () => {
            called++
            return nowResult
          },
          parse: JSON.parse,
        },
      },
    ],
  })
  const content = await runner.finalContent()
  check(called === 1, `${where}: now() was called ${called} times, want 1`)
  check(typeof content === 'string' && content !== '', `${where}: empty final content`)
  const completions = runner.allChatCompletions()
  check(completions.length === 2, `${where} made ${completions.length} completions, want 2`)
  const call = checkToolCall(completions[0].choices[0].message, completions[0].choices[0].finish_reason, `${where} turn 1`)
  // The SDK really replayed the call without its signature (else the case proves nothing).
  check(bodies.length === 2, `${where}: sent ${bodies.length} requests, want 2`)
  const replayed = bodies[1].messages?.find((m) => m.role === 'assistant' && m.tool_calls?.length)
  check(replayed, `${where}: turn 2 request has no assistant tool call: ${JSON.stringify(bodies[1])}`)
  check(replayed.tool_calls[0].id === call.id, `${where}: replayed call id ${replayed.tool_calls[0].id}, want ${call.id}`)
  const clientSentSignature = replayed.tool_calls.some((tc) => tc.extra_content !== undefined)
  return { call, completions: completions.length, answer: content, clientSentSignature }
}

await runCases('openai-client.mjs', cases, run)

// The only module that talks to Go, always through the management HTTP API (/api/...): in the
// desktop window Wails' asset server hands the requests to the app in-process (no login: the
// window is the local user); in a browser (the same UI served by the proxy at
// http://127.0.0.1:PORT/) they go over loopback with the admin session cookie. Wails' runtime is
// used only for what needs the OS: the "status" event and the clipboard. Everything else in the
// UI imports from here and never touches fetch or window.runtime.
//
// Answers are normalized here: every field is checked for its type and missing ones (lists sent
// as null included) get their zero value, so that the screens never see undefined.

// ---- shapes ------------------------------------------------------------------------------

/** Key counts of the running pool. */
export interface KeyCounts {
  total: number
  active: number
  cooling: number
  disabled: number
}

/** Progress of the latest key check. */
export interface CheckJob {
  id: string
  /** idle, running, done, canceled or failed. */
  state: string
  total: number
  done: number
  byResult: Record<string, number>
  startedAt: string
  finishedAt: string
  error: string
}

/** Status is what GET /api/status returns (and the window's "status" event carries). */
export interface Status {
  /** Whether the proxy is serving (possibly paused). */
  running: boolean
  /** Why the proxy is not serving (e.g. the port is taken); empty when running. */
  error: string
  /** Why stored keys cannot be used (the keychain is unavailable); empty when fine. */
  secretsProblem: string
  /** Listen address, e.g. "127.0.0.1:8321". */
  addr: string
  port: number
  keys: KeyCounts
  passthrough: boolean
  paused: boolean
  openaiBaseURL: string
  geminiBaseURL: string
  version: string
  check: CheckJob
  /** What the "system proxy" (an empty upstream proxy setting) resolves to; absent otherwise. */
  systemProxy?: SystemProxy
  /** Where the API keys are kept and how safe that is. */
  secretStore: SecretStoreInfo
}

/** The OS proxy settings in force and the proxy requests to Google take. */
export interface SystemProxy {
  /** "environment", "windows", "macos", "gnome", or "" when nothing sets a proxy. */
  source: string
  http?: string
  https?: string
  bypass?: string[]
  /** URL of an auto-config (PAC) script. */
  pac?: string
  /** What is not followed or could not be read. */
  note?: string
  /** The proxy requests to the upstream take (password masked); "" = direct. */
  proxy: string
}

/** A key as every face shows it: masked. */
export interface KeyInfo {
  id: string
  preview: string
  label: string
  status: string
  reason: string
  lastResult: string
  createdAt: string
  lastCheckedAt: string
  lastUsedAt: string
  quarantinedAt: string
  requests: number
  failures: number
  tokens: number
}

/** Selects a page of keys. */
export interface KeyQuery {
  status?: string[]
  search?: string
  sort?: string
  desc?: boolean
  offset: number
  limit: number
}

/** One page of keys, and the number of keys per status (all keys). */
export interface KeyList {
  keys: KeyInfo[]
  total: number
  offset: number
  limit: number
  counts: Record<string, number>
}

/** A token of pasted text that looked like a key but is not one (masked). */
export interface Malformed {
  line: number
  text: string
  reason: string
}

/** What adding keys did. */
export interface AddResult {
  added: number
  existing: number
  restored: number
  duplicates: number
  malformed: Malformed[]
  failed: number
  error: string
}

/** What deleting keys did. */
export interface DeleteResult {
  deleted: number
  notFound: number
  pending: number
  error: string
}

/** What pruning did; ids undo it. */
export interface PruneResult {
  quarantined: number
  ids: string[]
  until: string
}

/** The settings (JSON names of the management API). */
export interface Settings {
  port: number
  bindAddress: string
  allowedHosts: string[]
  accessKey: string
  passthrough: boolean
  paused: boolean
  strategy: string
  maxAttempts: number
  upstream: string
  upstreamProxy: string
  aliases: Record<string, string>
  maxBodyMB: number
  upstreamTimeoutSec: number
  streamIdleTimeoutSec: number
  imageFetchAllowHosts: string[]
  checkConcurrency: number
  logRetentionDays: number
  logMaxRows: number
  language: string
  theme: string
  startAtLogin: boolean
}

/** What saving settings did. */
export interface SettingsChange {
  settings: Settings
  restarted: boolean
  restartError: string
}

/** Usage sums. */
export interface Counts {
  requests: number
  successes: number
  failures: number
  rateLimited: number
  byClass: Record<string, number>
  promptTokens: number
  outputTokens: number
  thoughtTokens: number
}

/** Usage of one key, model or (key, model). */
export interface Total extends Counts {
  keyId: string
  preview: string
  label: string
  model: string
}

/** Usage since some time, grouped. */
export interface StatsAnswer {
  since: string
  by: string
  totals: Total[]
  sum: Counts
}

/** One bucket of a series. */
export interface Point extends Counts {
  time: string
}

/** A usage time series. */
export interface Series {
  resolution: string
  since: string
  until: string
  points: Point[]
}

/** Today's count of one (key, model). */
export interface TodayCount {
  keyId: string
  preview: string
  label: string
  model: string
  requests: number
  rateLimited: number
}

/** Today's counts in the free-tier day (US Pacific). */
export interface Today {
  dayStart: string
  resetsAt: string
  counts: TodayCount[]
}

/** One request of the request log. */
export interface LogEntry {
  id: number
  time: string
  route: string
  model: string
  keyId: string
  preview: string
  status: number
  attempts: number
  class: string
  latencyMs: number
  stream: boolean
  promptTokens: number
  outputTokens: number
  thoughtTokens: number
}

/** A page of the request log. */
export interface LogPage {
  entries: LogEntry[]
  total: number
  offset: number
  limit: number
}

// ---- errors ------------------------------------------------------------------------------

/** Thrown when the management API answers 401: the browser must log in first. */
export class AuthRequiredError extends Error {
  constructor(message = 'login required') {
    super(message)
    this.name = 'AuthRequiredError'
  }
}

/** Thrown for any other failed call; message is the server's text when it sent one. */
export class ApiError extends Error {
  readonly status: number
  /** Masked entries the server listed (e.g. malformed keys), when it did. */
  readonly malformed: Malformed[]
  /** The request field (JSON name) a validation error is about, when the server named one. */
  readonly field: string
  constructor(status: number, message: string, malformed: Malformed[] = [], field = '') {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.malformed = malformed
    this.field = field
  }
}

/** The text of any error, for the UI. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message
  if (typeof e === 'string') return e
  return String(e)
}

// ---- the Wails runtime (the window only) -------------------------------------------------------

interface WailsRuntime {
  EventsOn?: (name: string, cb: (...data: unknown[]) => void) => () => void
  EventsEmit?: (name: string, ...data: unknown[]) => void
  ClipboardSetText?: (text: string) => Promise<boolean>
}

function runtime(): WailsRuntime | undefined {
  return (window as unknown as { runtime?: WailsRuntime }).runtime
}

/**
 * Tells the desktop app about the page (the window only; a no-op in a browser): "ui:ready" once the
 * first status is on screen, "ui:unsaved" with true/false when typed input is (no longer) unsaved.
 * The app releases the page while the window is hidden (its web process ends) unless input is
 * unsaved, and shows a reloaded page only once it is ready.
 */
export function tellWindow(name: 'ui:ready' | 'ui:unsaved', ...data: unknown[]): void {
  runtime()?.EventsEmit?.(name, ...data)
}

/** Whether this page is the desktop window (the server said so when the session was read). */
let inWindow = false

/** True inside the desktop window, false in a browser (known once loggedIn() answered). */
export function isDesktop(): boolean {
  return inWindow
}

// ---- the HTTP side ---------------------------------------------------------------------------

async function http(method: string, path: string, body?: unknown): Promise<unknown> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } }
  if (body instanceof FormData) {
    init.body = body
  } else if (body !== undefined) {
    init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' }
    init.body = JSON.stringify(body)
  }
  const res = await fetch(path, init)
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  if (!res.ok) {
    const o = obj(parsed)
    const message = str(o.error) || text || res.statusText
    if (res.status === 401 && !o.field) throw new AuthRequiredError(message)
    throw new ApiError(res.status, message, malformedList(o.malformed), str(o.field))
  }
  if (method !== 'GET') wrote()
  return parsed
}

let wrote: () => void = () => undefined

/** Sets what runs after every successful change through the API (unsaved input is saved then). */
export function onWrite(f: () => void): void {
  wrote = f
}

// ---- normalization ---------------------------------------------------------------------------

type Loose = Record<string, unknown>

function obj(v: unknown): Loose {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : {}
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const bool = (v: unknown): boolean => v === true
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

function numMap(v: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, n] of Object.entries(obj(v))) out[k] = num(n)
  return out
}

function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, s] of Object.entries(obj(v))) out[k] = str(s)
  return out
}

function malformedList(v: unknown): Malformed[] {
  return arr(v).map((m) => {
    const o = obj(m)
    return { line: num(o.line), text: str(o.text), reason: str(o.reason) }
  })
}

function checkJob(v: unknown): CheckJob {
  const o = obj(v)
  return {
    id: str(o.id),
    state: str(o.state) || 'idle',
    total: num(o.total),
    done: num(o.done),
    byResult: numMap(o.byResult),
    startedAt: str(o.startedAt),
    finishedAt: str(o.finishedAt),
    error: str(o.error),
  }
}

/** normalize accepts a status (an answer or an event) and fills what is missing. */
export function normalize(raw: unknown): Status {
  const s = obj(raw)
  const k = obj(s.keys)
  const addr = str(s.addr)
  const running = s.running
  return {
    running: typeof running === 'boolean' ? running : addr !== '',
    error: str(s.error),
    secretsProblem: str(s.secretsProblem),
    addr,
    port: num(s.port),
    keys: {
      total: num(k.total),
      active: num(k.active),
      cooling: num(k.cooling),
      disabled: num(k.disabled),
    },
    passthrough: bool(s.passthrough),
    paused: bool(s.paused),
    openaiBaseURL: str(s.openaiBaseURL),
    geminiBaseURL: str(s.geminiBaseURL),
    version: str(s.version),
    check: checkJob(s.check),
    systemProxy: systemProxy(s.systemProxy),
    secretStore: secretStore(s.secretStore),
  }
}

function systemProxy(v: unknown): SystemProxy | undefined {
  if (v === null || typeof v !== 'object') return undefined
  const o = obj(v)
  return {
    source: str(o.source),
    http: str(o.http),
    https: str(o.https),
    bypass: Array.isArray(o.bypass) ? o.bypass.map(str) : [],
    pac: str(o.pac),
    note: str(o.note),
    proxy: str(o.proxy),
  }
}

function keyInfo(v: unknown): KeyInfo {
  const o = obj(v)
  return {
    id: str(o.id),
    preview: str(o.preview),
    label: str(o.label),
    status: str(o.status),
    reason: str(o.reason),
    lastResult: str(o.lastResult),
    createdAt: str(o.createdAt),
    lastCheckedAt: str(o.lastCheckedAt),
    lastUsedAt: str(o.lastUsedAt),
    quarantinedAt: str(o.quarantinedAt),
    requests: num(o.requests),
    failures: num(o.failures),
    tokens: num(o.tokens),
  }
}

function addResult(v: unknown): AddResult {
  const o = obj(v)
  return {
    added: num(o.added),
    existing: num(o.existing),
    restored: num(o.restored),
    duplicates: num(o.duplicates),
    malformed: malformedList(o.malformed),
    failed: num(o.failed),
    error: str(o.error),
  }
}

function settings(v: unknown): Settings {
  const o = obj(v)
  return {
    port: num(o.port),
    bindAddress: str(o.bindAddress),
    allowedHosts: arr(o.allowedHosts).map(str),
    accessKey: str(o.accessKey),
    passthrough: bool(o.passthrough),
    paused: bool(o.paused),
    strategy: str(o.strategy),
    maxAttempts: num(o.maxAttempts),
    upstream: str(o.upstream),
    upstreamProxy: str(o.upstreamProxy),
    aliases: strMap(o.aliases),
    maxBodyMB: num(o.maxBodyMB),
    upstreamTimeoutSec: num(o.upstreamTimeoutSec),
    streamIdleTimeoutSec: num(o.streamIdleTimeoutSec),
    imageFetchAllowHosts: arr(o.imageFetchAllowHosts).map(str),
    checkConcurrency: num(o.checkConcurrency),
    logRetentionDays: num(o.logRetentionDays),
    logMaxRows: num(o.logMaxRows),
    language: str(o.language) || 'auto',
    theme: str(o.theme) || 'auto',
    startAtLogin: bool(o.startAtLogin),
  }
}

function counts(o: Loose): Counts {
  return {
    requests: num(o.requests),
    successes: num(o.successes),
    failures: num(o.failures),
    rateLimited: num(o.rateLimited),
    byClass: numMap(o.byClass),
    promptTokens: num(o.promptTokens),
    outputTokens: num(o.outputTokens),
    thoughtTokens: num(o.thoughtTokens),
  }
}

// ---- session and status ----------------------------------------------------------------------

/** Whether the page is logged in (always true in the window, which needs no login). */
export async function loggedIn(): Promise<boolean> {
  const o = obj(await http('GET', '/api/session'))
  inWindow = bool(o.window)
  return bool(o.loggedIn)
}

/** Logs the browser in to the management API (sets the admin session cookie). */
export async function login(password: string): Promise<void> {
  try {
    await http('POST', '/api/login', { password })
  } catch (e) {
    // A wrong password is a 401 too (with the field); it is not "log in first".
    if (e instanceof AuthRequiredError) throw new ApiError(401, e.message, [], 'password')
    throw e
  }
}

/** Logs the browser out. */
export async function logout(): Promise<void> {
  if (!isDesktop()) await http('POST', '/api/logout', {})
}

/** The proxy's current status. */
export async function getStatus(): Promise<Status> {
  return normalize(await http('GET', '/api/status'))
}

/**
 * Calls cb with every new status: pushed by the "status" Wails event in the window, polled in a
 * browser (every pollMs, or every second while a key check runs). Returns a function that stops it.
 */
export function watchStatus(cb: (s: Status) => void, onError: (e: unknown) => void, pollMs = 3000): () => void {
  let stopped = false
  let timer: number | undefined
  const off = runtime()?.EventsOn?.('status', (data) => {
    if (!stopped) cb(normalize(data))
  })
  // a hidden page (background tab) does not poll; it polls at once when shown again
  const later = (ms: number) => {
    if (!off && !document.hidden) timer = window.setTimeout(poll, ms)
  }
  let pending = false
  const poll = () => {
    timer = undefined
    pending = true
    getStatus()
      .finally(() => (pending = false))
      .then((s) => {
        if (stopped) return
        cb(s)
        later(s.check.state === 'running' ? 1000 : pollMs)
      })
      .catch((e: unknown) => {
        if (stopped) return
        onError(e)
        if (!(e instanceof AuthRequiredError)) later(pollMs)
      })
  }
  const visible = () => {
    if (!stopped && !off && !document.hidden && timer === undefined && !pending) poll()
  }
  document.addEventListener('visibilitychange', visible)
  poll()
  return () => {
    stopped = true
    off?.()
    document.removeEventListener('visibilitychange', visible)
    if (timer !== undefined) window.clearTimeout(timer)
  }
}

// ---- quick toggles ---------------------------------------------------------------------------

/** Turns passthrough mode on or off. */
export async function setPassthrough(on: boolean): Promise<void> {
  await http('PATCH', '/api/settings', { passthrough: on })
}

/** Pauses or resumes the proxy. */
export async function setPaused(paused: boolean): Promise<void> {
  await http('PATCH', '/api/settings', { paused })
}

// ---- connect ---------------------------------------------------------------------------------

/** The access key clients send to the proxy. */
export async function getAccessKey(): Promise<string> {
  return settings(await http('GET', '/api/settings')).accessKey
}

/** Makes a new access key and returns it (clients must be given it). */
export async function regenerateAccessKey(): Promise<string> {
  return str(obj(await http('POST', '/api/settings/access-key', {})).accessKey)
}

/** Sets a new random admin password for the web UI and returns it: the app keeps only its hash, so this is the only time it can be read. */
export async function resetAdminPassword(): Promise<string> {
  return str(obj(await http('POST', '/api/settings/admin-password', {})).adminPassword)
}

/** Copies text to the clipboard. */
export async function copyText(text: string): Promise<void> {
  const set = runtime()?.ClipboardSetText
  if (set) {
    if (await set(text)) return
  }
  try {
    await navigator.clipboard.writeText(text)
    return
  } catch {
    // fall back to a selection copy (older WebKit, or no clipboard permission)
  }
  const ta = document.createElement('textarea')
  ta.value = text
  ta.setAttribute('readonly', '')
  ta.style.position = 'fixed'
  ta.style.opacity = '0'
  document.body.append(ta)
  ta.select()
  const ok = document.execCommand('copy')
  ta.remove()
  if (!ok) throw new ApiError(0, 'the clipboard is not available')
}

// ---- keys ------------------------------------------------------------------------------------

/** Adds the keys found in pasted text. */
export async function addKeys(text: string): Promise<AddResult> {
  return addResult(await http('POST', '/api/keys/bulk', { text }))
}

/** Adds the keys found in a text file. */
export async function importFile(file: File): Promise<AddResult> {
  const form = new FormData()
  form.append('file', file, file.name)
  return addResult(await http('POST', '/api/keys/import', form))
}

/** A page of masked keys. */
export async function listKeys(q: KeyQuery): Promise<KeyList> {
  const p = new URLSearchParams({ offset: String(q.offset), limit: String(q.limit) })
  if (q.status?.length) p.set('status', q.status.join(','))
  if (q.search) p.set('search', q.search)
  if (q.sort) p.set('sort', q.sort)
  if (q.desc) p.set('desc', 'true')
  const o = obj(await http('GET', '/api/keys?' + p.toString()))
  return {
    keys: arr(o.keys).map(keyInfo),
    total: num(o.total),
    offset: num(o.offset),
    limit: num(o.limit),
    counts: numMap(o.counts),
  }
}

/** One key in full, on explicit request. */
export async function revealKey(id: string): Promise<string> {
  return str(obj(await http('POST', `/api/keys/${encodeURIComponent(id)}/reveal`, {})).key)
}

/** Deletes keys for good. */
export async function deleteKeys(ids: string[]): Promise<DeleteResult> {
  const o = obj(await http('DELETE', '/api/keys', { ids }))
  return { deleted: num(o.deleted), notFound: num(o.notFound), pending: num(o.pending), error: str(o.error) }
}

/** Enables or disables a key by hand. */
export async function setKeyEnabled(id: string, enabled: boolean): Promise<void> {
  await http('PATCH', `/api/keys/${encodeURIComponent(id)}`, { enabled })
}

/** Labels a key. */
export async function setKeyLabel(id: string, label: string): Promise<void> {
  await http('PATCH', `/api/keys/${encodeURIComponent(id)}`, { label })
}

/** Starts checking keys (all when ids is empty); progress arrives with the status. */
export async function checkKeys(ids: string[]): Promise<void> {
  await http('POST', '/api/keys/check', ids.length ? { ids } : {})
}

/** Stops the running check. */
export async function cancelCheck(): Promise<void> {
  await http('DELETE', '/api/keys/check')
}

/** Moves the dead keys to quarantine (undo with restoreKeys(result.ids)). */
export async function pruneDead(): Promise<PruneResult> {
  const o = obj(await http('POST', '/api/keys/prune', {}))
  return { quarantined: num(o.quarantined), ids: arr(o.ids).map(str), until: str(o.until) }
}

/** Brings quarantined keys back; returns how many came back. */
export async function restoreKeys(ids: string[]): Promise<number> {
  return num(obj(await http('POST', '/api/keys/restore', { ids })).restored)
}

/**
 * Exports every usable key in plain text: the browser downloads a file; the window (a webview
 * cannot download) has the app write one where the user picks in the save dialog. Returns the
 * file's name or path, or "" when the user canceled the dialog.
 */
export async function exportKeys(): Promise<string> {
  if (isDesktop()) return str(obj(await http('POST', '/api/keys/export-file', {})).path)
  const res = await fetch('/api/keys/export', { method: 'POST', credentials: 'same-origin' })
  if (!res.ok) {
    const o = obj(await res.json().catch(() => ({})))
    if (res.status === 401) throw new AuthRequiredError(str(o.error))
    throw new ApiError(res.status, str(o.error) || res.statusText)
  }
  const blob = await res.blob()
  const name = /filename="?([^";]+)"?/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'gemini-api-keys.txt'
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
  return name
}

// ---- settings --------------------------------------------------------------------------------

/** The settings (the admin password is never returned). */
export async function getSettings(): Promise<Settings> {
  return settings(await http('GET', '/api/settings'))
}

/** Fields the settings form may change. */
export type SettingsPatch = Partial<Omit<Settings, 'accessKey' | 'paused'>>

/**
 * Validates (on the server), saves and applies changed fields; the other settings stay as they
 * are now. A rejected change throws ApiError with the server's message and
 * the field it is about.
 */
export async function saveSettings(patch: SettingsPatch): Promise<SettingsChange> {
  const o = obj(await http('PATCH', '/api/settings', patch))
  return { settings: settings(o.settings), restarted: bool(o.restarted), restartError: str(o.restartError) }
}

/** Starts serving after a failed start (the window, once the user picked a free port). */
export async function retryStart(): Promise<void> {
  if (isDesktop()) await http('POST', '/api/server/start', {})
}

// ---- statistics ------------------------------------------------------------------------------

/** Usage since (e.g. "24h", "7d"), grouped by "key", "model" or "key_model". */
export async function stats(by: string, since: string): Promise<StatsAnswer> {
  const o = obj(await http('GET', `/api/stats?by=${encodeURIComponent(by)}&since=${encodeURIComponent(since)}`))
  return {
    since: str(o.since),
    by: str(o.by),
    totals: arr(o.totals).map((t) => {
      const x = obj(t)
      return { ...counts(x), keyId: str(x.keyId), preview: str(x.preview), label: str(x.label), model: str(x.model) }
    }),
    sum: counts(obj(o.sum)),
  }
}

/** A usage series: resolution "minute" (≤ 24h) or "hour" (≤ 30 days). */
export async function series(resolution: string, since: string): Promise<Series> {
  const o = obj(await http('GET', `/api/stats/series?resolution=${encodeURIComponent(resolution)}&since=${encodeURIComponent(since)}`))
  return {
    resolution: str(o.resolution),
    since: str(o.since),
    until: str(o.until),
    points: arr(o.points).map((p) => ({ ...counts(obj(p)), time: str(obj(p).time) })),
  }
}

/** Today's counts per (key, model) in the free-tier day. */
export async function today(): Promise<Today> {
  const o = obj(await http('GET', '/api/stats/today'))
  return {
    dayStart: str(o.dayStart),
    resetsAt: str(o.resetsAt),
    counts: arr(o.counts).map((c) => {
      const x = obj(c)
      return {
        keyId: str(x.keyId),
        preview: str(x.preview),
        label: str(x.label),
        model: str(x.model),
        requests: num(x.requests),
        rateLimited: num(x.rateLimited),
      }
    }),
  }
}

/** A page of the request log, newest first. */
export async function requestLog(offset: number, limit: number): Promise<LogPage> {
  const o = obj(await http('GET', `/api/log?offset=${offset}&limit=${limit}`))
  return {
    entries: arr(o.entries).map((e) => {
      const x = obj(e)
      return {
        id: num(x.id),
        time: str(x.time),
        route: str(x.route),
        model: str(x.model),
        keyId: str(x.keyId),
        preview: str(x.preview),
        status: num(x.status),
        attempts: num(x.attempts),
        class: str(x.class),
        latencyMs: num(x.latencyMs),
        stream: bool(x.stream),
        promptTokens: num(x.promptTokens),
        outputTokens: num(x.outputTokens),
        thoughtTokens: num(x.thoughtTokens),
      }
    }),
    total: num(o.total),
    offset: num(o.offset),
    limit: num(o.limit),
  }
}

/** Deletes the request log; returns how many entries it held. */
export async function wipeLog(): Promise<number> {
  return num(obj(await http('DELETE', '/api/log')).deleted)
}

// ---- first run: the secret store and the test request ------------------------------------------

/** Where the API keys are kept (GET /api/secret-store). */
export interface SecretStoreInfo {
  /** "keychain" or "file". */
  kind: string
  /** "generated" (a random passphrase in a 0600 file beside the store) or "yours" (file store). */
  passphrase: string
  path: string
  passphrasePath: string
  /** Chosen by the app because no keychain answered. */
  auto: boolean
  keychainError: string
  /** How safe this is and how to change it, in English (the UI words the common cases itself). */
  note: string
}

function secretStore(v: unknown): SecretStoreInfo {
  const o = obj(v)
  return {
    kind: str(o.kind),
    passphrase: str(o.passphrase),
    path: str(o.path),
    passphrasePath: str(o.passphrasePath),
    auto: o.auto === true,
    keychainError: str(o.keychainError),
    note: str(o.note),
  }
}

/** Where the API keys are kept. */
export async function getSecretStore(): Promise<SecretStoreInfo> {
  return secretStore(await http('GET', '/api/secret-store'))
}

/**
 * Moves every API key to the OS keychain or the encrypted file store (with passphrase, or a
 * generated one when it is empty). Nothing is lost when it fails half way.
 */
export async function moveSecretStore(to: 'keychain' | 'file', passphrase = ''): Promise<SecretStoreInfo> {
  const body: Record<string, string> = { to }
  if (passphrase) body.passphrase = passphrase
  return secretStore(obj(await http('POST', '/api/secret-store/move', body)).store)
}

/** What the test request showed. */
export interface TestResult {
  ok: boolean
  /**
   * ok, not_running, paused, passthrough, no_keys, no_usable_key, region, invalid_key, upstream,
   * network or error.
   */
  reason: string
  /** The proxy's own text (Google's message, or the proxy's). */
  message: string
  status: number
  model: string
  /** The model's answer when ok. */
  text: string
  latencyMs: number
  /** The API the request spoke: gemini, openai, responses or anthropic. */
  dialect: string
}

/**
 * Sends one short request through the proxy with the access key, as a client would, in a dialect
 * (gemini, openai, responses, anthropic; '' is gemini).
 */
export async function testRequest(model = '', dialect = ''): Promise<TestResult> {
  const body: Record<string, string> = {}
  if (model) body.model = model
  if (dialect) body.dialect = dialect
  const o = obj(await http('POST', '/api/test-request', body))
  return {
    dialect: str(o.dialect),
    ok: o.ok === true,
    reason: str(o.reason),
    message: str(o.message),
    status: num(o.status),
    model: str(o.model),
    text: str(o.text),
    latencyMs: num(o.latencyMs),
  }
}

// ---- client setup (the Connect screen) -------------------------------------------------------

/** A setting to type into a GUI app. */
export interface ClientField {
  /** Names the field for translations (apiKey, apiHost, …). */
  id: string
  label: string
  value: string
}

/** A block of text to copy: code, shell lines, a config file. */
export interface ClientSnippet {
  title: string
  /** sh, python, js, json, toml or env. */
  lang: string
  text: string
}

/** A config file "Write config" edits, and the keys it sets. */
export interface ClientFile {
  /** Its place under the home folder, e.g. ".claude/settings.json". */
  home: string
  format: string
  set: { key: string; value: string }[]
}

/** The ready settings of one tool, filled with this machine's Base URL and access key. */
export interface ClientSetup {
  id: string
  name: string
  /** app, cli, sdk or curl. */
  kind: string
  dialect: string
  note: string
  fields: ClientField[]
  snippets: ClientSnippet[]
  files: ClientFile[]
}

/** What writing one config file changes (or changed). */
export interface ConfigChange {
  path: string
  format: string
  exists: boolean
  set: { key: string; before: string; after: string }[]
  diff: string
  unchanged: boolean
  beforeHash: string
  /** The copy of the old file, after a write. */
  backup: string
}

function clientSetup(v: unknown): ClientSetup {
  const o = obj(v)
  return {
    id: str(o.id),
    name: str(o.name),
    kind: str(o.kind),
    dialect: str(o.dialect),
    note: str(o.note),
    fields: arr(o.fields).map((f) => {
      const x = obj(f)
      return { id: str(x.id), label: str(x.label), value: str(x.value) }
    }),
    snippets: arr(o.snippets).map((f) => {
      const x = obj(f)
      return { title: str(x.title), lang: str(x.lang), text: str(x.text) }
    }),
    files: arr(o.files).map((f) => {
      const x = obj(f)
      return {
        home: str(x.home),
        format: str(x.format),
        set: arr(x.set).map((e) => ({ key: str(obj(e).key), value: str(obj(e).value) })),
      }
    }),
  }
}

function configChange(v: unknown): ConfigChange {
  const o = obj(v)
  return {
    path: str(o.path),
    format: str(o.format),
    exists: bool(o.exists),
    set: arr(o.set).map((e) => {
      const x = obj(e)
      return { key: str(x.key), before: str(x.before), after: str(x.after) }
    }),
    diff: str(o.diff),
    unchanged: bool(o.unchanged),
    beforeHash: str(o.beforeHash),
    backup: str(o.backup),
  }
}

/** Every tool's settings, and the dialects a test request can speak. */
export async function getClients(): Promise<{ clients: ClientSetup[]; dialects: string[] }> {
  const o = obj(await http('GET', '/api/clients'))
  return { clients: arr(o.clients).map(clientSetup), dialects: arr(o.dialects).map(str) }
}

/** What writing a CLI tool's config files would change (nothing is written). */
export async function planClientConfig(tool: string): Promise<ConfigChange[]> {
  const o = obj(await http('POST', `/api/clients/${encodeURIComponent(tool)}/write`, { dryRun: true }))
  return arr(o.changes).map(configChange)
}

/**
 * Writes a CLI tool's config files (a backup of each old file is kept), refused when a file
 * changed since the plan shown.
 */
export async function writeClientConfig(tool: string, plan: ConfigChange[]): Promise<ConfigChange[]> {
  const expect: Record<string, string> = {}
  for (const c of plan) expect[c.path] = c.beforeHash
  const o = obj(await http('POST', `/api/clients/${encodeURIComponent(tool)}/write`, { expect }))
  return arr(o.changes).map(configChange)
}

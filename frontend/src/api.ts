// The only module that talks to Go. In the Wails window it calls the bound Go methods
// (window.go.app.Bindings.*) and listens to Wails events; in a browser (the same UI served by the
// proxy at http://127.0.0.1:PORT/) it uses the management HTTP API with the admin session
// cookie. Everything else in the UI imports from here and never touches window.go or fetch.

/** Key counts of the pool. */
export interface KeyCounts {
  total: number
  active: number
  cooling: number
  disabled: number
}

/** Status is what GET /api/status and the bound Bindings.Status() return. */
export interface Status {
  /** Whether the proxy is serving (possibly paused). */
  running: boolean
  /** Why the proxy is not serving (e.g. the port is taken); empty when running. */
  error: string
  /** Listen address, e.g. "127.0.0.1:8321". */
  addr: string
  keys: KeyCounts
  passthrough: boolean
  paused: boolean
  /** Base URLs to give clients; empty when unknown. */
  openaiBaseURL: string
  geminiBaseURL: string
}

/** Thrown when the management API answers 401: the browser must log in first. */
export class AuthRequiredError extends Error {
  constructor() {
    super('login required')
    this.name = 'AuthRequiredError'
  }
}

/** Thrown for any other failed call; message is the server's text when it sent one. */
export class ApiError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }
}

// The bound Go service, as Wails v2 exposes it: window.go.<package>.<Struct>.<Method>.
interface AppBinding {
  Status(): Promise<unknown>
  SetPassthrough(on: boolean): Promise<void>
  SetPaused(paused: boolean): Promise<void>
}

interface WailsWindow {
  go?: { app?: { Bindings?: Partial<AppBinding> } }
  runtime?: {
    EventsOn?: (name: string, cb: (...data: unknown[]) => void) => () => void
  }
}

function wails(): WailsWindow | undefined {
  const w = window as unknown as WailsWindow
  return w.go ? w : undefined
}

function bound<K extends keyof AppBinding>(name: K): AppBinding[K] {
  const fn = wails()?.go?.app?.Bindings?.[name]
  if (typeof fn !== 'function') {
    throw new ApiError(0, `Go binding Bindings.${name} is missing`)
  }
  return fn as AppBinding[K]
}

/** True inside the desktop window, false in a browser. */
export function isDesktop(): boolean {
  return wails() !== undefined
}

async function http<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status === 401) {
    throw new AuthRequiredError()
  }
  const text = await res.text()
  if (!res.ok) {
    let message = text || res.statusText
    try {
      const parsed = JSON.parse(text) as { error?: { message?: string } | string }
      message = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message ?? message
    } catch {
      // not JSON: keep the text
    }
    throw new ApiError(res.status, message)
  }
  return (text ? JSON.parse(text) : undefined) as T
}

type Loose = Record<string, unknown>

// field reads name from o in camelCase or in Go's exported spelling (Total, Addr…).
function field(o: Loose | undefined, name: string): unknown {
  if (!o) return undefined
  return o[name] ?? o[name.charAt(0).toUpperCase() + name.slice(1)]
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

/** normalize accepts a status from either side and fills what is missing. */
export function normalize(raw: unknown): Status {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Loose
  const k = field(s, 'keys') as Loose | undefined
  const addr = str(field(s, 'addr'))
  const running = field(s, 'running')
  return {
    running: typeof running === 'boolean' ? running : addr !== '',
    error: str(field(s, 'error')),
    addr,
    keys: {
      total: num(field(k, 'total')),
      active: num(field(k, 'active')),
      cooling: num(field(k, 'cooling')),
      disabled: num(field(k, 'disabled')),
    },
    passthrough: field(s, 'passthrough') === true,
    paused: field(s, 'paused') === true,
    openaiBaseURL: str(field(s, 'openaiBaseURL')),
    geminiBaseURL: str(field(s, 'geminiBaseURL')),
  }
}

/** The proxy's current status. */
export async function getStatus(): Promise<Status> {
  if (isDesktop()) {
    return normalize(await bound('Status')())
  }
  return normalize(await http<unknown>('GET', '/api/status'))
}

/** Turns passthrough mode on or off. */
export async function setPassthrough(on: boolean): Promise<void> {
  if (isDesktop()) {
    return bound('SetPassthrough')(on)
  }
  await http('POST', '/api/passthrough', { enabled: on })
}

/** Pauses or resumes the proxy. */
export async function setPaused(paused: boolean): Promise<void> {
  if (isDesktop()) {
    return bound('SetPaused')(paused)
  }
  await http('POST', '/api/pause', { paused })
}

/** Logs the browser in to the management API (sets the admin session cookie). */
export async function login(password: string): Promise<void> {
  await http('POST', '/api/login', { password })
}

/**
 * Calls cb with every new status: pushed by the "status" Wails event in the window, polled
 * every few seconds in a browser. Returns a function that stops it.
 */
export function watchStatus(cb: (s: Status) => void, onError: (e: unknown) => void, pollMs = 3000): () => void {
  let stopped = false
  const poll = () => {
    getStatus()
      .then((s) => {
        if (!stopped) cb(s)
      })
      .catch((e: unknown) => {
        if (!stopped) onError(e)
      })
  }
  poll()
  const off = wails()?.runtime?.EventsOn?.('status', (data) => {
    if (!stopped) cb(normalize(data))
  })
  const timer = off ? undefined : window.setInterval(poll, pollMs)
  return () => {
    stopped = true
    off?.()
    if (timer !== undefined) window.clearInterval(timer)
  }
}

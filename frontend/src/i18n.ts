// UI strings in Simplified Chinese and English. The language comes from the saved choice,
// else from the browser/OS locale (navigator.languages), and can be switched at run time.

export type Lang = 'zh-CN' | 'en'

const en = {
  appName: 'Gemini Balance Desktop',
  listening: 'Listening on {addr}',
  notRunning: 'Proxy not running',
  paused: 'Paused',
  keysOk: '{n} ok',
  keysCooling: '{n} cooling',
  keysDead: '{n} dead',
  noKeys: 'No keys yet',
  passthrough: 'Passthrough',
  passthroughHint: "Clients' own API keys go upstream; the key pool and the access key are not used.",
  pause: 'Pause',
  resume: 'Resume',
  switchLang: '中文',
  keys: 'Keys',
  keysPlaceholder: 'Add, check and prune your Google AI Studio keys here.',
  settings: 'Settings',
  settingsPlaceholder: 'Port, access key, upstream proxy, key selection strategy and retries.',
  stats: 'Stats',
  statsPlaceholder: 'Requests, tokens and errors per key and per model.',
  comingSoon: 'Coming soon',
  loginTitle: 'Sign in',
  loginHint: 'Enter the admin password shown by the app (window, tray or `serve` output).',
  password: 'Password',
  signIn: 'Sign in',
  errorPrefix: 'Error: ',
  connecting: 'Connecting…',
} as const

export type Key = keyof typeof en

const zh: Record<Key, string> = {
  appName: 'Gemini Balance Desktop',
  listening: '监听 {addr}',
  notRunning: '代理未运行',
  paused: '已暂停',
  keysOk: '可用 {n}',
  keysCooling: '冷却 {n}',
  keysDead: '失效 {n}',
  noKeys: '尚无密钥',
  passthrough: '直通模式',
  passthroughHint: '客户端自己的 API 密钥直接发往上游；不使用密钥池和访问密钥。',
  pause: '暂停',
  resume: '恢复',
  switchLang: 'English',
  keys: '密钥',
  keysPlaceholder: '在这里添加、检查和清理你的 Google AI Studio 密钥。',
  settings: '设置',
  settingsPlaceholder: '端口、访问密钥、上游代理、密钥选择策略和重试次数。',
  stats: '统计',
  statsPlaceholder: '按密钥和模型统计的请求数、Token 用量和错误。',
  comingSoon: '即将推出',
  loginTitle: '登录',
  loginHint: '输入应用显示的管理密码（窗口、托盘或 `serve` 输出中）。',
  password: '密码',
  signIn: '登录',
  errorPrefix: '错误：',
  connecting: '正在连接…',
}

const tables: Record<Lang, Record<Key, string>> = { en, 'zh-CN': zh }
const storageKey = 'gbd.lang'

/** Picks the language: a saved choice first, then the first zh/en entry of the locale list. */
export function detectLang(saved: string | null, locales: readonly string[]): Lang {
  if (saved === 'zh-CN' || saved === 'en') return saved
  for (const l of locales) {
    const lower = l.toLowerCase()
    if (lower.startsWith('zh')) return 'zh-CN'
    if (lower.startsWith('en')) return 'en'
  }
  return 'en'
}

function savedLang(): string | null {
  try {
    return window.localStorage.getItem(storageKey)
  } catch {
    return null
  }
}

let current: Lang = detectLang(savedLang(), navigator.languages?.length ? navigator.languages : [navigator.language])

/** The current language. */
export function lang(): Lang {
  return current
}

/** Switches the language and remembers the choice. */
export function setLang(l: Lang): void {
  current = l
  try {
    window.localStorage.setItem(storageKey, l)
  } catch {
    // storage may be unavailable; the choice then lasts for this page only
  }
  document.documentElement.lang = l
}

/** The string for key in the current language, with {name} placeholders filled from vars. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  return tables[current][key].replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m))
}

import './style.css'
import { AuthRequiredError, getStatus, login, setPassthrough, setPaused, watchStatus, type Status } from './api'
import { lang, setLang, t, type Key } from './i18n'

// The page: a header with the proxy's status and quick toggles, then the Keys, Settings and
// Stats sections (placeholders until their issues land). State lives here; Go is reached
// only through ./api.

interface View {
  status?: Status
  error?: string
  needLogin: boolean
  busy: boolean
}

const view: View = { needLogin: false, busy: false }
const root = document.querySelector<HTMLDivElement>('#app')!

type Child = Node | string | null | undefined | false

function h(tag: string, attrs: Record<string, string | boolean> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue
    el.setAttribute(k, v === true ? '' : v)
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    el.append(c)
  }
  return el
}

function statusChips(s: Status | undefined): HTMLElement {
  if (!s) {
    return h('div', { class: 'chips' }, h('span', { class: 'chip muted', 'data-testid': 'status-addr' }, view.error ? t('errorPrefix') + view.error : t('connecting')))
  }
  const addr = s.running
    ? h('span', { class: 'chip ok', 'data-testid': 'status-addr' }, t('listening', { addr: s.addr }))
    : h('span', { class: 'chip bad', 'data-testid': 'status-addr', title: s.error }, s.error ? `${t('notRunning')}: ${s.error}` : t('notRunning'))
  const k = s.keys
  const keys =
    k.total === 0
      ? h('span', { class: 'chip muted', 'data-testid': 'status-keys' }, t('noKeys'))
      : h(
          'span',
          { class: 'chip', 'data-testid': 'status-keys' },
          h('span', { class: 'dot ok' }), t('keysOk', { n: k.active }), ' · ',
          h('span', { class: 'dot warn' }), t('keysCooling', { n: k.cooling }), ' · ',
          h('span', { class: 'dot bad' }), t('keysDead', { n: k.disabled }),
        )
  return h('div', { class: 'chips' }, addr, keys, s.paused && h('span', { class: 'chip warn', 'data-testid': 'status-paused' }, t('paused')))
}

function toggles(s: Status | undefined): HTMLElement {
  const pass = h('input', { type: 'checkbox', id: 'passthrough', 'data-testid': 'passthrough', disabled: !s || view.busy }) as HTMLInputElement
  pass.checked = Boolean(s?.passthrough)
  pass.addEventListener('change', () => act(() => setPassthrough(pass.checked)))
  const pause = h('button', { type: 'button', class: 'btn', 'data-testid': 'pause', disabled: !s?.running || view.busy }, s?.paused ? t('resume') : t('pause'))
  pause.addEventListener('click', () => act(() => setPaused(!s?.paused)))
  const langBtn = h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'lang' }, t('switchLang'))
  langBtn.addEventListener('click', () => {
    setLang(lang() === 'en' ? 'zh-CN' : 'en')
    render()
  })
  return h(
    'div',
    { class: 'toggles' },
    h('label', { class: 'switch', title: t('passthroughHint') }, pass, h('span', { class: 'track' }), t('passthrough')),
    pause,
    langBtn,
  )
}

function section(id: string, title: Key, text: Key): HTMLElement {
  return h(
    'section',
    { class: 'card', id, 'data-testid': `section-${id}` },
    h('h2', {}, t(title)),
    h('p', { class: 'muted' }, t(text)),
    h('p', { class: 'badge' }, t('comingSoon')),
  )
}

function loginForm(): HTMLElement {
  const input = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', 'data-testid': 'login-password', placeholder: t('password') }) as HTMLInputElement
  const form = h(
    'form',
    { class: 'card login', 'data-testid': 'login' },
    h('h2', {}, t('loginTitle')),
    h('p', { class: 'muted' }, t('loginHint')),
    input,
    h('button', { type: 'submit', class: 'btn' }, t('signIn')),
    view.error && h('p', { class: 'error' }, view.error),
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    login(input.value)
      .then(() => {
        view.needLogin = false
        view.error = undefined
        start()
      })
      .catch((err: unknown) => {
        view.error = errorText(err)
        render()
      })
  })
  return form
}

function render(): void {
  document.documentElement.lang = lang()
  document.title = t('appName')
  const header = h(
    'header',
    {},
    h('div', { class: 'brand' }, h('img', { src: './favicon.png', alt: '', width: '28', height: '28' }), h('h1', {}, t('appName'))),
    !view.needLogin && statusChips(view.status),
    !view.needLogin && toggles(view.status),
  )
  const main = view.needLogin
    ? h('main', {}, loginForm())
    : h(
        'main',
        {},
        h(
          'nav',
          {},
          h('a', { href: '#keys' }, t('keys')),
          h('a', { href: '#settings' }, t('settings')),
          h('a', { href: '#stats' }, t('stats')),
        ),
        section('keys', 'keys', 'keysPlaceholder'),
        section('settings', 'settings', 'settingsPlaceholder'),
        section('stats', 'stats', 'statsPlaceholder'),
      )
  root.replaceChildren(header, main)
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

function act(fn: () => Promise<void>): void {
  view.busy = true
  render()
  fn()
    .then(() => getStatus())
    .then((s) => {
      view.status = s
      view.error = undefined
    })
    .catch((e: unknown) => {
      view.error = errorText(e)
    })
    .finally(() => {
      view.busy = false
      render()
    })
}

let stop: (() => void) | undefined

function start(): void {
  stop?.()
  stop = watchStatus(
    (s) => {
      // Redraw only on change: polling must not reset focus or detach elements every few seconds.
      const changed = JSON.stringify(s) !== JSON.stringify(view.status) || view.error !== undefined
      view.status = s
      view.error = undefined
      if (changed) render()
    },
    (e) => {
      if (e instanceof AuthRequiredError) {
        stop?.()
        view.needLogin = true
      } else {
        view.error = errorText(e)
      }
      render()
    },
  )
  render()
}

start()

import './style.css'
import * as api from './api'
import type { Settings, Status } from './api'
import { connectPanel } from './connect'
import { busy, button, fmtNum, h, onError, report, set, toast } from './dom'
import { keysPanel } from './keys'
import { lang, setLang, t, type Key, type Lang } from './i18n'
import { settingsPanel } from './settings'
import { statsPanel } from './stats'
import { watchUnsaved } from './unsaved'
import { welcomePanel, type WelcomePanel } from './welcome'

// The page: a header with the proxy's status and quick toggles, banners for problems (the
// keychain, a failed start), then the tabs Keys, Connect, Stats and Settings. In a browser a
// login screen comes first. Go is reached only through ./api.

const root = document.querySelector<HTMLDivElement>('#app')!

type Tab = 'keys' | 'connect' | 'stats' | 'settings'
const tabs: [Tab, Key][] = [
  ['keys', 'tabKeys'],
  ['connect', 'tabConnect'],
  ['stats', 'tabStats'],
  ['settings', 'tabSettings'],
]

const view = {
  status: undefined as Status | undefined,
  statusError: '',
  tab: ((): Tab => {
    const h = location.hash.slice(1)
    return tabs.some(([t]) => t === h) ? (h as Tab) : 'keys'
  })(),
  theme: 'auto',
}

// ---- theme -------------------------------------------------------------------------------------

const themeKey = 'gbd.theme'

function applyTheme(theme: string): void {
  view.theme = theme === 'light' || theme === 'dark' ? theme : 'auto'
  document.documentElement.dataset.theme = view.theme
  try {
    localStorage.setItem(themeKey, view.theme)
  } catch {
    // not remembered: the saved setting still applies after login
  }
}

try {
  applyTheme(localStorage.getItem(themeKey) ?? 'auto')
} catch {
  applyTheme('auto')
}

/** Applies the language and theme of saved settings ("auto" keeps the browser's choice). */
function applySettings(s: Settings): boolean {
  applyTheme(s.theme)
  if ((s.language === 'en' || s.language === 'zh-CN') && s.language !== lang()) {
    setLang(s.language)
    return true
  }
  return false
}

// ---- header ------------------------------------------------------------------------------------

const headerStatus = h('div', { class: 'chips' })
const headerTools = h('div', { class: 'tools' })
const banners = h('div', { class: 'banners' })
let bannerKey = ''
// headerKey is what the header shows. The header is rebuilt only when it
// changes: rebuilding it on every status poll would replace the controls
// under the user's pointer and swallow a click in progress.
let headerKey = ''

function renderHeader(): void {
  const key = JSON.stringify([view.status, view.statusError, view.theme, lang()])
  if (key === headerKey) return
  headerKey = key
  const s = view.status
  if (!s) {
    headerStatus.replaceChildren(h('span', { class: 'chip muted', 'data-testid': 'status-addr' }, view.statusError ? view.statusError : t('connecting')))
  } else {
    const addr = s.running
      ? h('span', { class: `chip ${s.paused ? 'warn' : 'ok'}`, 'data-testid': 'status-addr' }, h('span', { class: `dot ${s.paused ? 'warn' : 'ok'}` }), t('listening', { addr: s.addr }))
      : h('span', { class: 'chip bad', 'data-testid': 'status-addr', title: s.error }, h('span', { class: 'dot bad' }), t('notRunning'))
    const k = s.keys
    const keys =
      k.total === 0
        ? h('span', { class: 'chip muted', 'data-testid': 'status-keys' }, t('noKeys'))
        : h(
            'span',
            { class: 'chip', 'data-testid': 'status-keys', title: t('keysTotal', { n: fmtNum(k.total) }) },
            h('span', { class: 'dot ok' }),
            t('keysOk', { n: fmtNum(k.active) }),
            h('span', { class: 'sep' }, '·'),
            h('span', { class: 'dot warn' }),
            t('keysCooling', { n: fmtNum(k.cooling) }),
            h('span', { class: 'sep' }, '·'),
            h('span', { class: 'dot bad' }),
            t('keysDead', { n: fmtNum(k.disabled) }),
          )
    set(
      headerStatus,
      addr,
      keys,
      s.paused && h('span', { class: 'chip warn', 'data-testid': 'status-paused' }, t('paused')),
      s.passthrough && h('span', { class: 'chip info', 'data-testid': 'status-passthrough' }, t('passthroughOn')),
    )
  }

  const pass = h('input', { type: 'checkbox', 'data-testid': 'passthrough', disabled: !s, role: 'switch' })
  pass.checked = Boolean(s?.passthrough)
  pass.addEventListener('change', () => {
    pass.disabled = true
    api
      .setPassthrough(pass.checked)
      .then(() => api.getStatus())
      .then(setStatus)
      .catch((e: unknown) => {
        headerKey = '' // show the switch as it really is again
        renderHeader()
        report(e)
      })
      .finally(() => (pass.disabled = false))
  })
  const pause: HTMLButtonElement = button(s?.paused ? t('resume') : t('pause'), () => {
    void busy(pause, async () => {
      await api.setPaused(!s?.paused)
      setStatus(await api.getStatus())
    })
  }, { 'data-testid': 'pause', disabled: !s?.running, title: s?.paused ? t('resumeHint') : t('pauseHint'), class: 'small' })
  const themeNext = view.theme === 'auto' ? 'light' : view.theme === 'light' ? 'dark' : 'auto'
  const themeBtn = button(view.theme === 'dark' ? '☾' : view.theme === 'light' ? '☀' : '◐', () => void switchTheme(themeNext), {
    class: 'small ghost icon',
    'data-testid': 'theme',
    title: t('themeIs', { theme: t(view.theme === 'dark' ? 'optDark' : view.theme === 'light' ? 'optLight' : 'optAuto') }),
  })
  const langBtn = button(t('switchLang'), () => void switchLang(lang() === 'en' ? 'zh-CN' : 'en'), { class: 'small ghost', 'data-testid': 'lang' })
  set(
    headerTools,
    h('label', { class: 'switch', title: t('passthroughHint') }, pass, h('span', { class: 'track' }), h('span', {}, t('passthrough'))),
    pause,
    themeBtn,
    langBtn,
    !api.isDesktop() && button(t('logout'), () => void logout(), { class: 'small ghost', 'data-testid': 'logout' }),
  )
  renderBanners()
}

function renderBanners(): void {
  const s = view.status
  const key = JSON.stringify([s?.secretsProblem, s?.running, s?.error, lang()])
  if (key === bannerKey) return
  bannerKey = key
  const out: HTMLElement[] = []
  if (s?.secretsProblem) {
    out.push(h('div', { class: 'banner bad', role: 'alert', 'data-testid': 'secrets-banner' }, h('strong', {}, t('secretsProblem')), ' ', s.secretsProblem))
  }
  if (s && !s.running && s.error) {
    const port = h('input', { type: 'number', min: 1, max: 65535, value: s.port ? s.port + 1 : 8322, 'data-testid': 'fix-port', 'aria-label': t('fPort') })
    const apply: HTMLButtonElement = button(t('usePort'), () => {
      void busy(apply, async () => {
        const ch = await api.saveSettings({ port: Number(port.value) })
        await api.retryStart()
        if (ch.restartError) toast(ch.restartError, 'bad')
        setStatus(await api.getStatus())
      })
    }, { class: 'small primary', 'data-testid': 'fix-port-apply' })
    out.push(
      h(
        'div',
        { class: 'banner bad', role: 'alert', 'data-testid': 'start-error' },
        h('div', {}, h('strong', {}, t('notRunning')), ': ', s.error),
        /in use|address already|bind/i.test(s.error) && h('div', { class: 'row' }, h('span', {}, t('portTaken')), port, apply),
      ),
    )
  }
  banners.replaceChildren(...out)
}

async function switchTheme(theme: string): Promise<void> {
  applyTheme(theme)
  renderHeader()
  try {
    await api.saveSettings({ theme })
  } catch (e) {
    report(e)
  }
}

async function switchLang(l: Lang): Promise<void> {
  setLang(l)
  build()
  try {
    await api.saveSettings({ language: l })
  } catch (e) {
    report(e)
  }
}

async function logout(): Promise<void> {
  await api.logout().catch(() => undefined)
  showLogin()
}

// ---- the app -----------------------------------------------------------------------------------

interface Panel {
  el: HTMLElement
  onShow(): void
  onHide?(): void
  onStatus?(s: Status): void
}

let panels: Record<Tab, Panel> | undefined
let welcome: WelcomePanel | undefined
let stopStatus: (() => void) | undefined

let readyTold = false

function setStatus(s: Status): void {
  view.status = s
  view.statusError = ''
  renderHeader()
  welcome?.onStatus(s)
  if (panels) for (const p of Object.values(panels)) p.onStatus?.(s)
  if (!readyTold) {
    // the desktop window shows a reloaded page only now: never a stale or empty screen
    readyTold = true
    api.tellWindow('ui:ready')
  }
}

function selectTab(tab: Tab): void {
  if (!panels) return
  panels[view.tab].onHide?.()
  view.tab = tab
  if (location.hash !== '#' + tab) history.replaceState(null, '', '#' + tab)
  for (const [name, p] of Object.entries(panels) as [Tab, Panel][]) p.el.hidden = name !== tab
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav.tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab))
  panels[tab].onShow()
}

/** Builds (or rebuilds, after a language switch) the whole app. */
function build(): void {
  document.documentElement.lang = lang()
  document.title = t('appName')
  bannerKey = ''
  headerKey = ''
  if (panels) panels[view.tab].onHide?.()
  const refresh = (): void => {
    api.getStatus().then(setStatus).catch(() => undefined)
  }
  welcome = welcomePanel(refresh)
  panels = {
    keys: keysPanel(refresh),
    connect: connectPanel(),
    stats: statsPanel(),
    settings: settingsPanel((s) => {
      if (applySettings(s)) build()
      else renderHeader()
    }),
  }
  const nav = h(
    'nav',
    { class: 'tabs', role: 'tablist' },
    ...tabs.map(([name, label]) =>
      h('button', { type: 'button', role: 'tab', 'data-tab': name, 'data-testid': `tab-${name}`, onclick: () => selectTab(name) }, t(label)),
    ),
  )
  const header = h(
    'header',
    {},
    h('div', { class: 'brand' }, h('img', { src: './favicon.png', alt: '', width: 28, height: 28 }), h('h1', {}, t('appName'))),
    headerStatus,
    headerTools,
  )
  const w = welcome
  const reopen = button(t('welcomeReopen'), () => w.open(), { class: 'small ghost', 'data-testid': 'welcome-open' })
  const main = h('main', {}, banners, welcome.el, h('div', { class: 'row between' }, nav, reopen), ...Object.values(panels).map((p) => p.el))
  root.replaceChildren(header, main)
  renderHeader()
  if (view.status) {
    welcome.onStatus(view.status)
    for (const p of Object.values(panels)) p.onStatus?.(view.status)
  }
  selectTab(view.tab)
}

function startApp(): void {
  stopStatus?.()
  build()
  api
    .getSettings()
    .then((s) => {
      if (applySettings(s)) build()
      else renderHeader()
    })
    .catch(report)
  stopStatus = api.watchStatus(setStatus, (e) => {
    if (e instanceof api.AuthRequiredError) {
      showLogin()
      return
    }
    view.statusError = api.errorText(e)
    view.status = undefined
    renderHeader()
  })
}

// ---- login -------------------------------------------------------------------------------------

function showLogin(message?: string): void {
  stopStatus?.()
  stopStatus = undefined
  if (panels) panels[view.tab].onHide?.()
  panels = undefined
  welcome = undefined
  document.documentElement.lang = lang()
  document.title = t('appName')
  const input = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    'data-testid': 'login-password',
    placeholder: t('password'),
    'aria-label': t('password'),
    required: true,
  })
  const error = h('p', { class: 'error', 'data-testid': 'login-error', role: 'alert', hidden: !message }, message ?? '')
  const submit = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'login-submit' }, t('signIn'))
  const langBtn = button(t('switchLang'), () => {
    setLang(lang() === 'en' ? 'zh-CN' : 'en')
    showLogin()
  }, { class: 'small ghost', 'data-testid': 'lang' })
  const form = h(
    'form',
    { class: 'card login', 'data-testid': 'login' },
    h('div', { class: 'brand' }, h('img', { src: './favicon.png', alt: '', width: 40, height: 40 }), h('h1', {}, t('appName'))),
    h('h2', {}, t('loginTitle')),
    h('p', { class: 'muted small' }, t('loginHint')),
    input,
    error,
    h('div', { class: 'row between' }, langBtn, submit),
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    submit.disabled = true
    api
      .login(input.value)
      .then(() => startApp())
      .catch((err: unknown) => {
        error.textContent =
          err instanceof api.ApiError && err.status === 401 ? t('wrongPassword') : err instanceof api.ApiError && err.status === 429 ? t('loginThrottled') : api.errorText(err)
        error.hidden = false
        input.select()
      })
      .finally(() => (submit.disabled = false))
  })
  root.replaceChildren(h('main', { class: 'center' }, form))
  input.focus()
}

// A lost session (expired, or logged out elsewhere) brings the login back.
onError((e) => {
  if (e instanceof api.AuthRequiredError) {
    showLogin(t('sessionEnded'))
    return true
  }
  return false
})

window.addEventListener('hashchange', () => {
  const tab = location.hash.slice(1)
  if (panels && tabs.some(([n]) => n === tab) && tab !== view.tab) selectTab(tab as Tab)
})

// While the page is hidden (the window closed to the tray, a background tab) the open panel's
// timers stop (onHide); such a panel loads afresh when shown again. Panels without timers are
// left alone, so nothing typed into them is refilled.
document.addEventListener('visibilitychange', () => {
  const p = panels?.[view.tab]
  if (!p?.onHide) return
  if (document.hidden) p.onHide()
  else p.onShow()
})
watchUnsaved()

api
  .loggedIn()
  .then((ok) => (ok ? startApp() : showLogin()))
  .catch((e: unknown) => {
    root.replaceChildren(h('main', { class: 'center' }, h('div', { class: 'card' }, h('p', { class: 'error' }, api.errorText(e)))))
  })

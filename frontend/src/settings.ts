// The Settings tab: one form, validated by the server (its message is shown next to the form
// and the field it names is marked). Only changed fields are sent, so a toggle flipped elsewhere
// (header, tray) in the meantime is not undone.

import * as api from './api'
import type { Settings, SettingsPatch, Status, SystemProxy } from './api'
import { busy, button, h, report, toast } from './dom'
import { keyStoreSection } from './keystore'
import { t, type Key } from './i18n'

type Name = keyof SettingsPatch

interface Field {
  name: Name
  label: Key
  hint?: Key
  kind: 'number' | 'text' | 'bool' | 'select' | 'list' | 'aliases'
  options?: [string, Key][]
  placeholder?: string
}

const groups: [Key, Field[]][] = [
  [
    'grpNetwork',
    [
      { name: 'port', label: 'fPort', hint: 'hPort', kind: 'number' },
      { name: 'bindAddress', label: 'fBind', hint: 'hBind', kind: 'text', placeholder: '127.0.0.1' },
      { name: 'allowedHosts', label: 'fAllowedHosts', hint: 'hAllowedHosts', kind: 'list', placeholder: 'mybox.lan, 192.168.1.20' },
    ],
  ],
  [
    'grpProxy',
    [
      { name: 'passthrough', label: 'fPassthrough', hint: 'passthroughHint', kind: 'bool' },
      {
        name: 'strategy',
        label: 'fStrategy',
        hint: 'hStrategy',
        kind: 'select',
        options: [
          ['random', 'optRandom'],
          ['round_robin', 'optRoundRobin'],
          ['lru', 'optLRU'],
        ],
      },
      { name: 'maxAttempts', label: 'fAttempts', hint: 'hAttempts', kind: 'number' },
      { name: 'upstream', label: 'fUpstream', hint: 'hUpstream', kind: 'text', placeholder: 'https://generativelanguage.googleapis.com' },
      { name: 'upstreamProxy', label: 'fUpstreamProxy', hint: 'hUpstreamProxy', kind: 'text', placeholder: 'socks5://127.0.0.1:1080' },
      { name: 'aliases', label: 'fAliases', hint: 'hAliases', kind: 'aliases', placeholder: 'gpt-4o = gemini-2.5-pro' },
      { name: 'maxBodyMB', label: 'fMaxBody', kind: 'number' },
      { name: 'upstreamTimeoutSec', label: 'fUpstreamTimeout', hint: 'hUpstreamTimeout', kind: 'number' },
      { name: 'streamIdleTimeoutSec', label: 'fStreamIdle', hint: 'hStreamIdle', kind: 'number' },
      { name: 'imageFetchAllowHosts', label: 'fImageAllow', hint: 'hImageAllow', kind: 'list', placeholder: 'nas.lan, 192.168.1.0/24' },
    ],
  ],
  [
    'grpKeysLog',
    [
      { name: 'checkConcurrency', label: 'fCheckConcurrency', hint: 'hCheckConcurrency', kind: 'number' },
      { name: 'logRetentionDays', label: 'fLogDays', hint: 'hLogDays', kind: 'number' },
      { name: 'logMaxRows', label: 'fLogRows', kind: 'number' },
    ],
  ],
  [
    'grpApp',
    [
      {
        name: 'language',
        label: 'fLanguage',
        kind: 'select',
        options: [
          ['auto', 'optAuto'],
          ['en', 'optEnglish'],
          ['zh-CN', 'optChinese'],
        ],
      },
      {
        name: 'theme',
        label: 'fTheme',
        kind: 'select',
        options: [
          ['auto', 'optAuto'],
          ['light', 'optLight'],
          ['dark', 'optDark'],
        ],
      },
      { name: 'startAtLogin', label: 'fStartAtLogin', hint: 'hStartAtLogin', kind: 'bool' },
    ],
  ],
]

/** One line saying what "system proxy" resolved to. */
export function systemProxyText(p: SystemProxy): string {
  const source = p.source ? t(`sysSrc_${p.source}` as Key) : ''
  let text = p.source ? t('sysProxyVia', { source, proxy: p.proxy || t('sysProxyDirect') }) : t('sysProxyNone')
  if (p.pac) text += ' ' + t('sysProxyPac', { url: p.pac })
  if (p.note) text += ' ' + p.note
  return text
}

/** Whether a bind address only accepts connections from this machine. */
export function isLoopback(addr: string): boolean {
  const a = addr.trim().toLowerCase()
  return a === '' || a === 'localhost' || a === '::1' || a.startsWith('127.')
}

function aliasesText(m: Record<string, string>): string {
  return Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([from, to]) => `${from} = ${to}`)
    .join('\n')
}

function parseAliases(text: string): Record<string, string> | string {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (!line || line.startsWith('#')) continue
    const m = /^(.+?)\s*(?:=|->|→)\s*(.+)$/.exec(line)
    if (!m) return t('aliasLineBad', { n: i + 1 })
    out[m[1].trim()] = m[2].trim()
  }
  return out
}

function parseList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean)
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** The Settings tab. */
export interface SettingsPanel {
  el: HTMLElement
  onStatus(s: Status): void
  onShow(): void
}

/** Builds the Settings tab; applied(settings) runs after a successful save (language, theme). */
export function settingsPanel(applied: (s: Settings) => void): SettingsPanel {
  let loaded: Settings | undefined
  const inputs = new Map<Name, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>()
  const rows = new Map<Name, HTMLElement>()
  const errorBox = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'settings-error', hidden: true })
  const doneBox = h('div', { class: 'form-done', 'data-testid': 'settings-done', hidden: true })
  const lanWarning = h('p', { class: 'warn-text small', hidden: true, 'data-testid': 'lan-warning' }, t('lanWarning'))
  const sysProxy = h('p', { class: 'hint', hidden: true, 'data-testid': 'system-proxy' })

  function control(f: Field): HTMLElement {
    const id = `set-${f.name}`
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
    switch (f.kind) {
      case 'bool':
        input = h('input', { type: 'checkbox', id, 'data-testid': id })
        break
      case 'select':
        input = h('select', { id, 'data-testid': id }, ...(f.options ?? []).map(([v, label]) => h('option', { value: v }, t(label))))
        break
      case 'aliases':
        input = h('textarea', { id, rows: 3, spellcheck: 'false', 'data-testid': id, placeholder: f.placeholder })
        break
      case 'number':
        input = h('input', { type: 'number', id, inputmode: 'numeric', 'data-testid': id })
        break
      default:
        input = h('input', { type: 'text', id, spellcheck: 'false', autocomplete: 'off', 'data-testid': id, placeholder: f.placeholder })
    }
    input.addEventListener('input', () => {
      const row = rows.get(f.name)
      row?.classList.remove('invalid')
      const fe = row?.querySelector<HTMLElement>('.field-error')
      if (fe) fe.hidden = true
      if (f.name === 'bindAddress') lanWarning.hidden = isLoopback(input.value)
    })
    inputs.set(f.name, input)
    const row = h(
      'div',
      { class: `field ${f.kind === 'bool' ? 'bool' : ''}` },
      h('label', { for: id }, t(f.label)),
      input,
      h('p', { class: 'field-error', hidden: true, 'data-testid': `${id}-error` }),
      f.hint && h('p', { class: 'hint' }, t(f.hint)),
      f.name === 'bindAddress' && lanWarning,
      f.name === 'upstreamProxy' && sysProxy,
    )
    rows.set(f.name, row)
    return row
  }

  const saveBtn = button(t('save'), () => void save(), { class: 'primary', 'data-testid': 'settings-save' })
  const resetBtn = button(t('revert'), () => loaded && fill(loaded), { class: 'ghost', 'data-testid': 'settings-revert' })
  const form = h(
    'form',
    { class: 'card settings', novalidate: true, 'data-testid': 'settings-form' },
    h('h2', {}, t('settingsTitle')),
    ...groups.map(([title, fields]) => h('fieldset', {}, h('legend', {}, t(title)), ...fields.map(control))),
    h('div', { class: 'form-foot' }, errorBox, doneBox, h('div', { class: 'row end' }, resetBtn, saveBtn)),
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    void save()
  })

  function fill(s: Settings): void {
    for (const [name, input] of inputs) {
      const v = s[name]
      if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = v === true
      else if (name === 'aliases') input.value = aliasesText(s.aliases)
      else if (name === 'allowedHosts' || name === 'imageFetchAllowHosts') input.value = s[name].join(', ')
      else input.value = String(v ?? '')
    }
    clearMarks()
    lanWarning.hidden = isLoopback(s.bindAddress)
  }

  // read returns the form's values, or a message about the first one that cannot be sent.
  function read(): { values: SettingsPatch } | { error: string; field: Name } {
    const out: Record<string, unknown> = {}
    for (const [name, input] of inputs) {
      if (input instanceof HTMLInputElement && input.type === 'checkbox') {
        out[name] = input.checked
      } else if (input instanceof HTMLInputElement && input.type === 'number') {
        const v = input.value.trim()
        if (!/^-?\d+$/.test(v)) return { error: t('wholeNumber', { field: t(groups.flatMap(([, f]) => f).find((f) => f.name === name)!.label) }), field: name }
        out[name] = Number(v)
      } else if (name === 'aliases') {
        const a = parseAliases(input.value)
        if (typeof a === 'string') return { error: a, field: name }
        out[name] = a
      } else if (name === 'allowedHosts' || name === 'imageFetchAllowHosts') {
        out[name] = parseList(input.value)
      } else {
        out[name] = input.value.trim()
      }
    }
    return { values: out as SettingsPatch }
  }

  function clearMarks(): void {
    for (const r of rows.values()) {
      r.classList.remove('invalid')
      const fe = r.querySelector<HTMLElement>('.field-error')
      if (fe) fe.hidden = true
    }
  }

  function showError(message: string, field?: Name): void {
    errorBox.textContent = message
    errorBox.hidden = false
    doneBox.hidden = true
    clearMarks()
    if (field) {
      const row = rows.get(field)
      row?.classList.add('invalid')
      const fe = row?.querySelector<HTMLElement>('.field-error')
      if (fe) {
        fe.textContent = message
        fe.hidden = false
      }
      row?.scrollIntoView({ block: 'nearest' })
    }
  }

  async function save(): Promise<void> {
    if (!loaded) return
    const r = read()
    if ('error' in r) {
      showError(r.error, r.field)
      return
    }
    const patch: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(r.values)) {
      if (!same(v, loaded[k as keyof Settings])) patch[k] = v
    }
    if (Object.keys(patch).length === 0) {
      errorBox.hidden = true
      doneBox.textContent = t('nothingChanged')
      doneBox.hidden = false
      return
    }
    await busy(saveBtn, async () => {
      let ch
      try {
        ch = await api.saveSettings(patch as SettingsPatch)
      } catch (e) {
        if (e instanceof api.ApiError && e.status !== 401) {
          showError(e.message, (e.field || undefined) as Name | undefined)
          return
        }
        throw e
      }
      loaded = ch.settings
      fill(ch.settings)
      errorBox.hidden = true
      const msgs = [t('saved')]
      if (ch.restarted) msgs.push(t('restartedOn', { addr: `${ch.settings.bindAddress}:${ch.settings.port}` }))
      doneBox.replaceChildren(msgs.join(' '))
      if (ch.restarted && !api.isDesktop()) {
        const host = isLoopback(ch.settings.bindAddress) ? '127.0.0.1' : location.hostname
        const url = `${location.protocol}//${host.includes(':') ? `[${host}]` : host}:${ch.settings.port}/`
        doneBox.append(' ', h('a', { href: url }, t('openNewAddress', { url })))
      }
      doneBox.hidden = false
      if (ch.restartError) showError(t('restartFailed', { error: ch.restartError }), 'port')
      if ('port' in patch) await api.retryStart()
      toast(t('saved'), 'ok')
      applied(ch.settings)
    })
  }

  const store = keyStoreSection()
  const el = h('div', { class: 'panel', 'data-testid': 'panel-settings' }, form, store.el)

  return {
    el,
    onStatus(s) {
      sysProxy.hidden = !s.systemProxy
      if (s.systemProxy) sysProxy.textContent = systemProxyText(s.systemProxy)
      // Toggles flipped in the header or the tray: follow them unless the form changed them.
      if (!loaded) return
      const pass = inputs.get('passthrough') as HTMLInputElement | undefined
      if (pass && pass.checked === loaded.passthrough && loaded.passthrough !== s.passthrough) {
        loaded.passthrough = s.passthrough
        pass.checked = s.passthrough
      }
    },
    onShow() {
      store.load()
      api
        .getSettings()
        .then((s) => {
          loaded = s
          fill(s)
          errorBox.hidden = true
          doneBox.hidden = true
        })
        .catch(report)
    },
  }
}

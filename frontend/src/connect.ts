// The Connect tab: the base URLs and the access key to give OpenAI- and Gemini-compatible
// clients, with copy buttons; in the window also the web UI's address and admin password.

import * as api from './api'
import type { Status } from './api'
import { busy, button, dialog, h, report, toast } from './dom'
import { t } from './i18n'

/** The Connect tab. */
export interface ConnectPanel {
  el: HTMLElement
  onStatus(s: Status): void
  onShow(): void
}

const dots = '•'.repeat(24)

/** A copy button for the value get() returns at click time. */
function copyButton(get: () => string | undefined, testid: string): HTMLButtonElement {
  const b: HTMLButtonElement = button(t('copy'), () => {
    const v = get()
    if (!v) return
    void busy(b, async () => {
      await api.copyText(v)
      toast(t('copied'), 'ok')
    })
  }, { class: 'small', 'data-testid': testid })
  return b
}

/** Builds the Connect tab. */
export function connectPanel(): ConnectPanel {
  let status: Status | undefined
  let accessKey: string | undefined
  let showKey = false
  let adminPassword: string | undefined

  const openaiURL = h('code', { class: 'value', 'data-testid': 'openai-url' }, '…')
  const geminiURL = h('code', { class: 'value', 'data-testid': 'gemini-url' }, '…')
  const keyValue = h('code', { class: 'value', 'data-testid': 'access-key' }, dots)
  const showBtn = button(t('show'), () => {
    showKey = !showKey
    renderKey()
  }, { class: 'small ghost', 'data-testid': 'access-key-show' })
  const regenBtn: HTMLButtonElement = button(t('regenerate'), () => void regenerate(), { class: 'small danger-ghost', 'data-testid': 'access-key-regenerate' })
  const passthroughNote = h('p', { class: 'notice', hidden: true, 'data-testid': 'passthrough-note' }, t('passthroughOnNote'))
  const example = h('pre', { class: 'example', 'data-testid': 'example' })

  function renderKey(): void {
    keyValue.textContent = accessKey === undefined ? '…' : showKey ? accessKey : dots
    showBtn.textContent = showKey ? t('hide') : t('show')
    renderExample()
  }

  function renderExample(): void {
    const o = status?.openaiBaseURL || 'http://127.0.0.1:8321/v1'
    const g = status?.geminiBaseURL || 'http://127.0.0.1:8321'
    const k = showKey && accessKey ? accessKey : '<access key>'
    example.textContent = [
      '# OpenAI SDKs, LangChain, Cherry Studio, …',
      `OPENAI_BASE_URL=${o}`,
      `OPENAI_API_KEY=${k}`,
      '',
      '# Google GenAI SDK (httpOptions.baseUrl), Gemini CLI, …',
      `GOOGLE_GEMINI_BASE_URL=${g}`,
      `GEMINI_API_KEY=${k}`,
    ].join('\n')
  }

  async function regenerate(): Promise<void> {
    const ok = await dialog({ title: t('regenTitle'), body: h('p', {}, t('regenBody')), ok: t('regenerate'), danger: true, testid: 'regen-dialog' })
    if (!ok) return
    await busy(regenBtn, async () => {
      accessKey = await api.regenerateAccessKey()
      showKey = true
      renderKey()
      toast(t('regenDone'), 'ok')
    })
  }

  const clientCard = h(
    'section',
    { class: 'card' },
    h('h2', {}, t('connectTitle')),
    h('p', { class: 'muted small' }, t('connectHint')),
    passthroughNote,
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, t('openaiBaseURL')),
      h('dd', {}, openaiURL, copyButton(() => status?.openaiBaseURL, 'copy-openai-url')),
      h('dt', {}, t('geminiBaseURL')),
      h('dd', {}, geminiURL, copyButton(() => status?.geminiBaseURL, 'copy-gemini-url')),
      h('dt', {}, t('accessKey')),
      h('dd', {}, keyValue, showBtn, copyButton(() => accessKey, 'copy-access-key'), regenBtn),
    ),
    h('p', { class: 'muted small' }, t('accessKeyHint')),
    example,
  )

  // The window shows how to reach the same UI from a browser.
  const webURL = h('code', { class: 'value', 'data-testid': 'web-url' }, '…')
  // Only a hash of the admin password is kept: the window cannot show it,
  // it sets a new one and shows that once.
  const pwValue = h('code', { class: 'value', 'data-testid': 'admin-password' }, dots)
  const pwNew: HTMLButtonElement = button(t('newAdminPassword'), () => {
    pwNew.disabled = true
    api
      .resetAdminPassword()
      .then((p) => {
        adminPassword = p
        pwValue.textContent = p
      })
      .catch(report)
      .finally(() => (pwNew.disabled = false))
  }, { class: 'small danger-ghost', 'data-testid': 'admin-password-new', title: t('newAdminPasswordHint') })
  const webCard = api.isDesktop()
    ? h(
        'section',
        { class: 'card' },
        h('h2', {}, t('webTitle')),
        h('p', { class: 'muted small' }, t('webHint')),
        h(
          'dl',
          { class: 'kv' },
          h('dt', {}, t('webURL')),
          h('dd', {}, webURL, copyButton(() => (status?.geminiBaseURL ? status.geminiBaseURL + '/' : undefined), 'copy-web-url')),
          h('dt', {}, t('adminPassword')),
          h('dd', {}, pwValue, pwNew, copyButton(() => adminPassword, 'copy-admin-password')),
        ),
      )
    : undefined

  const el = h('div', { class: 'panel', 'data-testid': 'panel-connect' }, clientCard, webCard)
  renderKey()

  function update(): void {
    openaiURL.textContent = status?.openaiBaseURL || '…'
    geminiURL.textContent = status?.geminiBaseURL || '…'
    webURL.textContent = status?.geminiBaseURL ? status.geminiBaseURL + '/' : '…'
    passthroughNote.hidden = !status?.passthrough
    renderExample()
  }

  return {
    el,
    onStatus(s) {
      status = s
      update()
    },
    onShow() {
      update()
      api
        .getAccessKey()
        .then((k) => {
          accessKey = k
          renderKey()
        })
        .catch(report)
    },
  }
}

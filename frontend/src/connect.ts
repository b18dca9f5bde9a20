// The Connect tab: the base URLs and the access key to give OpenAI- and Gemini-compatible
// clients, with copy buttons; ready settings per tool (rendered by the Go side, GET
// /api/clients) with "Write config" for the CLIs; a test request per dialect; in the window also
// the web UI's address and admin password.

import * as api from './api'
import type { ClientSetup, ConfigChange, Status, TestResult } from './api'
import { busy, button, dialog, fmtNum, h, report, set, toast } from './dom'
import { t, type Key } from './i18n'
import { copyButton, reasonText } from './welcome'

/** Translated notes of the tools (the server's English note otherwise). */
const clientNotes: Record<string, Key> = {
  'cherry-studio': 'noteCherryStudio',
  chatbox: 'noteChatbox',
  'gemini-cli': 'noteGeminiCli',
  'claude-code': 'noteClaudeCode',
  codex: 'noteCodex',
  'openai-sdk': 'noteOpenaiSdk',
  'google-sdk': 'noteGoogleSdk',
  langchain: 'noteLangchain',
  'vercel-ai': 'noteVercelAi',
  curl: 'noteCurl',
}

/** Translated labels of the GUI apps' fields. */
const fieldLabels: Record<string, Key> = {
  providerType: 'fieldProviderType',
  provider: 'fieldProvider',
  apiKey: 'fieldApiKey',
  apiHost: 'fieldApiHost',
  openaiHost: 'fieldOpenaiHost',
  model: 'fieldModel',
}

/** Translated snippet titles (file names and package names stay as the server wrote them). */
const snippetTitles: Record<string, Key> = {
  'or in the shell': 'snippetShell',
  then: 'snippetThen',
  environment: 'snippetEnv',
  'or with the key in the environment (env_key)': 'snippetEnvKey',
}

/** Names of the dialects on the test buttons. */
const dialectNames: Record<string, string> = {
  gemini: 'Gemini',
  openai: 'OpenAI Chat',
  responses: 'OpenAI Responses',
  anthropic: 'Anthropic Messages',
}

/** The Connect tab. */
export interface ConnectPanel {
  el: HTMLElement
  onStatus(s: Status): void
  onShow(): void
}

const dots = '•'.repeat(24)

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
    if (clients.length) renderTools()
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
      loadClients()
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

  // ---- ready settings per tool
  let clients: ClientSetup[] = []
  let dialects: string[] = ['gemini', 'openai', 'responses', 'anthropic']
  let current = 'cherry-studio'
  const toolTabs = h('div', { class: 'tool-tabs', role: 'tablist', 'data-testid': 'client-tabs' })
  const toolBody = h('div', { class: 'tool-body', 'data-testid': 'client-detail' })

  /** text with the access key hidden unless shown. */
  function masked(text: string): string {
    return !showKey && accessKey ? text.split(accessKey).join(dots) : text
  }

  function copyRow(value: string, testid: string): HTMLElement {
    return h('dd', {}, h('code', { class: 'value', 'data-testid': testid }, masked(value)), copyButton(() => value, testid + '-copy'))
  }

  function renderTools(): void {
    set(
      toolTabs,
      ...clients.map((c) =>
        button(c.name, () => {
          current = c.id
          renderTools()
        }, { class: 'small' + (c.id === current ? ' primary' : ' ghost'), role: 'tab', 'aria-selected': String(c.id === current), 'data-testid': 'client-tab-' + c.id }),
      ),
    )
    const c = clients.find((x) => x.id === current)
    if (!c) {
      set(toolBody)
      return
    }
    toolBody.dataset.tool = c.id
    const note = clientNotes[c.id]
    const parts: (Node | false)[] = [h('p', { class: 'muted small', 'data-testid': 'client-note' }, note ? t(note) : c.note)]
    if (c.fields.length) {
      parts.push(
        h('dl', { class: 'kv' }, ...c.fields.flatMap((f) => [h('dt', {}, fieldLabels[f.id] ? t(fieldLabels[f.id]) : f.label), copyRow(f.value, 'client-field-' + f.id)])),
      )
    }
    for (const sn of c.snippets) {
      parts.push(
        h(
          'div',
          { class: 'snippet' },
          h('div', { class: 'row between' }, h('span', { class: 'muted small' }, snippetTitles[sn.title] ? t(snippetTitles[sn.title]) : sn.title), copyButton(() => sn.text, 'client-snippet-copy')),
          h('pre', { class: 'example', 'data-testid': 'client-snippet', 'data-lang': sn.lang }, masked(sn.text)),
        ),
      )
    }
    if (c.files.length) {
      const write: HTMLButtonElement = button(t('writeConfig'), () => void writeConfig(c, write), { class: 'primary', 'data-testid': 'client-write' })
      parts.push(h('div', { class: 'row' }, write, h('span', { class: 'muted small' }, t('writeConfigHint', { files: c.files.map((f) => '~/' + f.home).join(', ') }))))
    }
    set(toolBody, ...parts)
  }

  function changeView(ch: ConfigChange): HTMLElement {
    return h(
      'div',
      { class: 'config-change', 'data-testid': 'config-change' },
      h('p', {}, h('code', {}, ch.path), ' ', h('span', { class: 'muted small' }, ch.unchanged ? t('configUnchanged') : ch.exists ? t('configExisting') : t('configNew'))),
      !ch.unchanged &&
        h(
          'table',
          { class: 'changes' },
          h('thead', {}, h('tr', {}, h('th', {}, t('configKey')), h('th', {}, t('configBefore')), h('th', {}, t('configAfter')))),
          h(
            'tbody',
            {},
            ...ch.set
              .filter((x) => x.before !== x.after)
              .map((x) => h('tr', {}, h('td', {}, h('code', {}, x.key)), h('td', {}, x.before ? masked(x.before) : '—'), h('td', {}, masked(x.after)))),
          ),
        ),
      !ch.unchanged && ch.diff && h('pre', { class: 'example diff', 'data-testid': 'config-diff' }, masked(ch.diff)),
    )
  }

  async function writeConfig(c: ClientSetup, btn: HTMLButtonElement): Promise<void> {
    await busy(btn, async () => {
      const plan = await api.planClientConfig(c.id)
      if (plan.every((ch) => ch.unchanged)) {
        toast(t('configAlreadySet'), 'ok')
        return
      }
      const ok = await dialog({
        title: t('writeConfigTitle', { tool: c.name }),
        body: [h('p', { class: 'muted small' }, t('writeConfigBody')), ...plan.map(changeView)],
        ok: t('writeConfig'),
        testid: 'write-config-dialog',
      })
      if (!ok) return
      const done = await api.writeClientConfig(c.id, plan)
      const backups = done.filter((d) => d.backup).map((d) => d.backup)
      toast(backups.length ? t('configWrittenBackup', { backup: backups.join(', ') }) : t('configWritten'), 'ok', 8000)
    })
  }

  function loadClients(): void {
    api
      .getClients()
      .then((r) => {
        clients = r.clients
        if (r.dialects.length) dialects = r.dialects
        renderTools()
        renderTests()
      })
      .catch(report)
  }

  const toolsCard = h(
    'section',
    { class: 'card', 'data-testid': 'clients-card' },
    h('h2', {}, t('clientsTitle')),
    h('p', { class: 'muted small' }, t('clientsHint')),
    toolTabs,
    toolBody,
  )

  // ---- a test request per dialect
  const testButtons = h('div', { class: 'row wrap' })
  const testResult = h('div', { class: 'test-result', hidden: true, 'data-testid': 'test-result' })

  function renderTests(): void {
    set(
      testButtons,
      ...dialects.map((d) => {
        const b: HTMLButtonElement = button(dialectNames[d] ?? d, () => void runTest(d, b), { class: 'small', 'data-testid': 'test-' + d })
        return b
      }),
    )
  }

  async function runTest(d: string, b: HTMLButtonElement): Promise<void> {
    await busy(b, async () => {
      const res: TestResult = await api.testRequest('', d)
      testResult.hidden = false
      testResult.dataset.ok = String(res.ok)
      testResult.dataset.reason = res.reason
      testResult.dataset.dialect = d
      if (res.ok) {
        set(
          testResult,
          h('p', { class: 'ok' }, `${dialectNames[d] ?? d}: `, t('testOK', { model: res.model, ms: fmtNum(res.latencyMs) })),
          h('blockquote', { 'data-testid': 'test-answer' }, res.text),
        )
        return
      }
      set(
        testResult,
        h('p', { class: 'error', 'data-testid': 'test-reason' }, `${dialectNames[d] ?? d}: `, t(reasonText[res.reason] ?? 'testUpstream')),
        res.message && h('p', { class: 'muted small', 'data-testid': 'test-message' }, res.message),
      )
    })
  }
  renderTests()

  const testCard = h(
    'section',
    { class: 'card', 'data-testid': 'test-card' },
    h('h2', {}, t('testDialectsTitle')),
    h('p', { class: 'muted small' }, t('testDialectsHint')),
    testButtons,
    testResult,
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

  const el = h('div', { class: 'panel', 'data-testid': 'panel-connect' }, clientCard, toolsCard, testCard, webCard)
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
      loadClients()
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

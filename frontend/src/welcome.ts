// The first launch walks through four steps: paste keys → they are checked (with progress) →
// the Base URLs and the access key to give clients (copy buttons) → a test request through the
// proxy that shows the answer, or in plain words why there is none. It shows while the pool is
// empty and until the user closes it; "Getting started" on the Connect tab brings it back.

import * as api from './api'
import type { CheckJob, Status, TestResult } from './api'
import { busy, button, fmtNum, h, report, set, toast } from './dom'
import { t, type Key } from './i18n'

/** The walkthrough panel. */
export interface WelcomePanel {
  el: HTMLElement
  onStatus(s: Status): void
  /** Shows it again (from the Connect tab). */
  open(): void
}

const doneKey = 'gbd.welcomeDone'

function dismissed(): boolean {
  try {
    return localStorage.getItem(doneKey) === '1'
  } catch {
    return false
  }
}

/** The words for each reason of a failed test request. */
/** The message of each test-request reason. */
export const reasonText: Record<string, Key> = {
  not_running: 'testNotRunning',
  paused: 'testPaused',
  passthrough: 'testPassthrough',
  no_keys: 'testNoKeys',
  no_usable_key: 'testNoUsableKey',
  region: 'testRegion',
  invalid_key: 'testInvalidKey',
  network: 'testNetwork',
  upstream: 'testUpstream',
  error: 'testUpstream',
}

/** A copy button for the value get() returns at click time. */
export function copyButton(get: () => string | undefined, testid: string): HTMLButtonElement {
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

/** Builds the walkthrough. keysChanged is called after keys were added. */
export function welcomePanel(keysChanged: () => void): WelcomePanel {
  let status: Status | undefined
  let shown = false
  let checkID = '' // the check this walkthrough started
  let accessKey = ''

  const step = (n: number, title: Key, ...body: HTMLElement[]): HTMLElement =>
    h('li', { class: 'step', 'data-step': n, 'data-testid': `welcome-step-${n}` }, h('h3', {}, h('span', { class: 'num' }, String(n)), t(title)), ...body)

  // 1. paste
  const paste = h('textarea', { rows: 4, 'data-testid': 'welcome-keys', placeholder: t('welcomePastePlaceholder'), 'aria-label': t('welcomePaste'), spellcheck: false })
  const addResult = h('p', { class: 'muted small', 'data-testid': 'welcome-add-result', hidden: true })
  // Where the keys will be kept, said plainly when it is the file with a generated passphrase.
  const storeNote = h('p', { class: 'notice small', 'data-testid': 'welcome-store-note', hidden: true })
  const addBtn: HTMLButtonElement = button(t('welcomeAdd'), () => void add(), { class: 'primary', 'data-testid': 'welcome-add' })
  // 2. check
  const progress = h('div', { class: 'progress-area', 'data-testid': 'welcome-check' }, h('p', { class: 'muted small' }, t('welcomeCheckWaiting')))
  // 3. connect
  const openai = h('code', { class: 'value', 'data-testid': 'welcome-openai-url' }, '…')
  const gemini = h('code', { class: 'value', 'data-testid': 'welcome-gemini-url' }, '…')
  const dots = '•'.repeat(24)
  const key = h('code', { class: 'value', 'data-testid': 'welcome-access-key' }, dots)
  let showKey = false
  const showBtn = button(t('show'), () => {
    showKey = !showKey
    key.textContent = showKey ? accessKey : dots
    showBtn.textContent = showKey ? t('hide') : t('show')
  }, { class: 'small ghost', 'data-testid': 'welcome-show-key' })
  // 4. test
  const testResult = h('div', { class: 'test-result', 'data-testid': 'welcome-test-result', hidden: true, role: 'status' })
  const testBtn: HTMLButtonElement = button(t('welcomeTest'), () => void test(), { class: 'primary', 'data-testid': 'welcome-test' })

  const line = (label: Key, value: HTMLElement, ...btns: HTMLButtonElement[]): HTMLElement =>
    h('div', { class: 'kv' }, h('span', { class: 'label' }, t(label)), value, h('span', { class: 'row' }, ...btns))

  const el = h(
    'section',
    { class: 'card welcome', 'data-testid': 'welcome', hidden: true, 'aria-labelledby': 'welcome-title' },
    h(
      'div',
      { class: 'row between' },
      h('h2', { id: 'welcome-title' }, t('welcomeTitle')),
      button(t('welcomeClose'), () => close(), { class: 'small ghost', 'data-testid': 'welcome-close' }),
    ),
    h('p', { class: 'muted' }, t('welcomeIntro')),
    h(
      'ol',
      { class: 'steps' },
      step(1, 'welcomePaste', paste, h('div', { class: 'row' }, addBtn), addResult, storeNote),
      step(2, 'welcomeCheck', progress),
      step(
        3,
        'welcomeConnect',
        line('openaiBaseURL', openai, copyButton(() => status?.openaiBaseURL ?? '', 'welcome-copy-openai')),
        line('geminiBaseURL', gemini, copyButton(() => status?.geminiBaseURL ?? '', 'welcome-copy-gemini')),
        line('accessKey', key, showBtn, copyButton(() => accessKey, 'welcome-copy-key')),
      ),
      step(4, 'welcomeTestTitle', h('p', { class: 'muted small' }, t('welcomeTestHint')), h('div', { class: 'row' }, testBtn), testResult),
    ),
  )

  function close(): void {
    shown = false
    el.hidden = true
    try {
      localStorage.setItem(doneKey, '1')
    } catch {
      // shown again next time: harmless
    }
  }

  async function add(): Promise<void> {
    await busy(addBtn, async () => {
      addResult.hidden = true
      let res
      try {
        res = await api.addKeys(paste.value)
      } catch (e) {
        addResult.textContent = api.errorText(e)
        addResult.className = 'error small'
        addResult.hidden = false
        return
      }
      addResult.className = res.failed > 0 ? 'error small' : 'muted small'
      addResult.textContent =
        t('welcomeAdded', { added: fmtNum(res.added), existing: fmtNum(res.existing), malformed: fmtNum(res.malformed.length) }) +
        (res.failed > 0 ? ' ' + res.error : '')
      addResult.hidden = false
      keysChanged()
      if (res.added + res.existing === 0) return
      paste.value = ''
      await api.checkKeys([])
      const s = await api.getStatus()
      checkID = s.check.id
      render(s)
    })
  }

  function renderCheck(job: CheckJob): void {
    if (!checkID || job.id !== checkID) return
    if (job.state === 'running' || job.state === 'idle') {
      const pct = job.total > 0 ? Math.round((job.done / job.total) * 100) : 0
      set(
        progress,
        h(
          'div',
          { class: 'progress', 'data-state': 'running' },
          h('span', {}, t('welcomeChecking', { done: fmtNum(job.done), total: fmtNum(job.total) })),
          h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct }, h('div', { style: `width:${pct}%` })),
        ),
      )
      return
    }
    const by = job.byResult
    const ok = by.ok ?? 0
    const dead = (by.invalid ?? 0) + (by.expired ?? 0) + (by.denied ?? 0)
    const other = Math.max(0, Object.values(by).reduce((n, v) => n + v, 0) - ok - dead)
    set(
      progress,
      h(
        'div',
        { class: `progress done ${job.state}`, 'data-state': job.state, 'data-testid': 'welcome-check-done' },
        h('span', {}, t('welcomeChecked', { ok: fmtNum(ok), dead: fmtNum(dead), other: fmtNum(other), total: fmtNum(job.total) })),
        job.error && h('span', { class: 'error' }, job.error),
      ),
    )
  }

  async function test(): Promise<void> {
    await busy(testBtn, async () => {
      let res: TestResult
      try {
        res = await api.testRequest()
      } catch (e) {
        report(e)
        return
      }
      testResult.hidden = false
      testResult.dataset.ok = String(res.ok)
      testResult.dataset.reason = res.reason
      if (res.ok) {
        set(
          testResult,
          h('p', { class: 'ok' }, t('testOK', { model: res.model, ms: fmtNum(res.latencyMs) })),
          h('blockquote', { 'data-testid': 'welcome-test-answer' }, res.text),
        )
        return
      }
      set(
        testResult,
        h('p', { class: 'error', 'data-testid': 'welcome-test-reason' }, t(reasonText[res.reason] ?? 'testUpstream')),
        res.message && h('p', { class: 'muted small', 'data-testid': 'welcome-test-message' }, res.message),
      )
    })
  }

  function render(s: Status): void {
    status = s
    const st = s.secretStore
    storeNote.hidden = !(st.kind === 'file' && st.passphrase === 'generated')
    if (!storeNote.hidden) storeNote.textContent = `${t('storeFileGenerated')} ${t('storeSafety')} ${t('storeChange')}`
    openai.textContent = s.openaiBaseURL
    gemini.textContent = s.geminiBaseURL
    renderCheck(s.check)
  }

  function open(): void {
    shown = true
    el.hidden = false
    if (!accessKey) {
      api
        .getAccessKey()
        .then((k) => {
          accessKey = k
          key.textContent = showKey ? k : dots
        })
        .catch(report)
    }
    el.scrollIntoView?.({ block: 'start' })
  }

  return {
    el,
    onStatus(s) {
      render(s)
      if (!shown && s.keys.total === 0 && !s.passthrough && !dismissed()) open()
    },
    open,
  }
}

// The Keys tab: bulk add (paste or file), the server-paged key table with filter, search, sort
// and selection, checks with progress and cancel, prune with undo, reveal one key, export.
// Keys are shown masked; a raw key reaches the page only in the reveal dialog.

import * as api from './api'
import type { AddResult, CheckJob, KeyInfo, KeyList, Status } from './api'
import { busy, button, dialog, fmtCompact, fmtNum, fmtTime, h, report, set, timeCell, toast } from './dom'
import { t, type Key } from './i18n'

/** The status filters, each a list of store statuses (empty: every status but quarantined). */
const filters: Record<string, string[]> = {
  all: ['active', 'disabled', 'invalid', 'expired', 'denied', 'secret_missing'],
  active: ['active'],
  disabled: ['disabled'],
  dead: ['invalid', 'expired', 'denied'],
  secret_missing: ['secret_missing'],
  quarantined: ['quarantined'],
}

const filterLabels: Record<string, Key> = {
  all: 'filterAll',
  active: 'filterActive',
  disabled: 'filterDisabled',
  dead: 'filterDead',
  secret_missing: 'filterSecretMissing',
  quarantined: 'filterQuarantined',
}

const statusLabels: Record<string, Key> = {
  active: 'stActive',
  disabled: 'stDisabled',
  invalid: 'stInvalid',
  expired: 'stExpired',
  denied: 'stDenied',
  secret_missing: 'stSecretMissing',
  quarantined: 'stQuarantined',
  adding: 'stAdding',
  deleting: 'stDeleting',
}

const resultLabels: Record<string, Key> = {
  ok: 'resOk',
  invalid: 'resInvalid',
  expired: 'resExpired',
  denied: 'resDenied',
  rate_limited: 'resRateLimited',
  region: 'resRegion',
  network: 'resNetwork',
  skipped: 'resSkipped',
}

const statusClass = (st: string): string =>
  st === 'active' ? 'ok' : st === 'disabled' || st === 'quarantined' ? 'muted' : st === 'secret_missing' ? 'warn' : 'bad'

// State kept across rebuilds (a language switch rebuilds the panel).
const state = {
  filter: 'all',
  search: '',
  sort: 'created',
  desc: false,
  offset: 0,
  limit: 50,
  selected: new Set<string>(),
  list: undefined as KeyList | undefined,
  add: undefined as AddResult | undefined,
  undo: undefined as { ids: string[]; until: string } | undefined,
  seenJob: undefined as { id: string; state: string } | undefined,
  summary: undefined as CheckJob | undefined,
}

/** The Keys tab. */
export interface KeysPanel {
  el: HTMLElement
  onStatus(s: Status): void
  onShow(): void
}

/** Builds the Keys tab; changed() is called after an action that changes the pool (the header's counts). */
export function keysPanel(changed: () => void = () => undefined): KeysPanel {
  let status: Status | undefined
  let seq = 0

  // ---- add ----
  const addCard = addSection(changedReload)

  // ---- list ----
  const filterBar = h('div', { class: 'filters', role: 'tablist' })
  const search = h('input', {
    type: 'search',
    class: 'search',
    placeholder: t('searchPlaceholder'),
    'data-testid': 'key-search',
    value: state.search,
  })
  let searchTimer: number | undefined
  search.addEventListener('input', () => {
    window.clearTimeout(searchTimer)
    searchTimer = window.setTimeout(() => {
      state.search = search.value.trim()
      state.offset = 0
      reload()
    }, 250)
  })

  const checkAllBtn = button(t('checkAll'), () => void startCheck([]), { 'data-testid': 'check-all' })
  const pruneBtn = button(t('pruneDead'), () => void prune(), { 'data-testid': 'prune' })
  const exportBtn = button(t('export'), () => void exportKeys(), { class: 'ghost', 'data-testid': 'export' })
  const progress = h('div', { class: 'progress-area', 'data-testid': 'check-progress' })
  const undoBar = h('div', { 'data-testid': 'prune-undo-area' })
  const selectionBar = h('div', { class: 'selection', 'data-testid': 'selection' })
  const tableWrap = h('div', { class: 'table-wrap' })
  const pager = h('div', { class: 'pager' })

  const listCard = h(
    'section',
    { class: 'card', 'data-testid': 'keys-card' },
    h('div', { class: 'row between' }, h('h2', {}, t('keysTitle')), h('div', { class: 'row' }, checkAllBtn, pruneBtn, exportBtn)),
    progress,
    undoBar,
    h('div', { class: 'row between wrap' }, filterBar, search),
    selectionBar,
    tableWrap,
    pager,
  )

  function renderFilters(counts: Record<string, number>): void {
    const n = (name: string) => filters[name].reduce((sum, st) => sum + (counts[st] ?? 0), 0)
    filterBar.replaceChildren(
      ...Object.keys(filters)
        .filter((name) => ['all', 'active', 'dead'].includes(name) || n(name) > 0 || state.filter === name)
        .map((name) =>
          h(
            'button',
            {
              type: 'button',
              role: 'tab',
              class: `filter ${state.filter === name ? 'on' : ''}`,
              'aria-selected': String(state.filter === name),
              'data-testid': `filter-${name}`,
              onclick: () => {
                state.filter = name
                state.offset = 0
                state.selected.clear()
                reload()
              },
            },
            t(filterLabels[name]),
            h('span', { class: 'n' }, fmtNum(n(name))),
          ),
        ),
    )
  }

  const sortable: [string, Key, string][] = [
    ['preview', 'colKey', ''],
    ['label', 'colLabel', 'label'],
    ['status', 'colStatus', 'status'],
    ['lastChecked', 'colLastCheck', 'last_checked'],
    ['lastUsed', 'colLastUsed', 'last_used'],
    ['requests', 'colRequests', 'requests'],
    ['failures', 'colFailures', 'failures'],
    ['tokens', 'colTokens', 'tokens'],
  ]

  // The page's selection boxes, updated in place (a 500-row page is not rebuilt per click).
  let pageBoxes: { id: string; box: HTMLInputElement; row: HTMLElement }[] = []
  let pageBox: HTMLInputElement | undefined

  function syncPageBox(): void {
    if (pageBox) pageBox.checked = pageBoxes.length > 0 && pageBoxes.every((b) => state.selected.has(b.id))
  }

  function renderTable(list: KeyList): void {
    pageBoxes = []
    const all = h('input', { type: 'checkbox', 'data-testid': 'select-page', 'aria-label': t('selectPage') })
    pageBox = all
    all.addEventListener('change', () => {
      for (const b of pageBoxes) {
        if (all.checked) state.selected.add(b.id)
        else state.selected.delete(b.id)
        b.box.checked = all.checked
        b.row.classList.toggle('selected', all.checked)
      }
      renderSelection()
    })
    const head = h(
      'tr',
      {},
      h('th', { class: 'sel' }, all),
      ...sortable.map(([, label, sort]) => {
        if (!sort) return h('th', {}, t(label))
        const on = state.sort === sort
        return h(
          'th',
          { class: `sortable ${['requests', 'failures', 'tokens'].includes(sort) ? 'num' : ''}` },
          h(
            'button',
            {
              type: 'button',
              class: 'linkish',
              onclick: () => {
                if (state.sort === sort) state.desc = !state.desc
                else {
                  state.sort = sort
                  state.desc = ['requests', 'failures', 'tokens', 'last_used', 'last_checked'].includes(sort)
                }
                reload()
              },
            },
            t(label),
            on ? (state.desc ? ' ▾' : ' ▴') : '',
          ),
        )
      }),
      h('th', { class: 'actions' }, ''),
    )
    const rows = list.keys.map((k) => keyRow(k))
    const body =
      rows.length > 0
        ? h('tbody', {}, ...rows)
        : h('tbody', {}, h('tr', {}, h('td', { colspan: 10, class: 'empty', 'data-testid': 'keys-empty' }, state.search ? t('noMatch') : t('noKeysHere'))))
    tableWrap.replaceChildren(h('table', { class: 'keys', 'data-testid': 'keys-table' }, h('thead', {}, head), body))
    syncPageBox()
  }

  function keyRow(k: KeyInfo): HTMLElement {
    const sel = h('input', { type: 'checkbox', 'aria-label': t('selectKey') })
    sel.checked = state.selected.has(k.id)
    sel.addEventListener('change', () => {
      if (sel.checked) state.selected.add(k.id)
      else state.selected.delete(k.id)
      tr.classList.toggle('selected', sel.checked)
      syncPageBox()
      renderSelection()
    })
    const tr = h(
      'tr',
      { 'data-testid': 'key-row', 'data-id': k.id, class: state.selected.has(k.id) ? 'selected' : '' },
      h('td', { class: 'sel' }, sel),
      h('td', { class: 'mono', 'data-testid': 'key-preview', title: k.id }, k.preview),
      labelCell(k),
      statusCell(k),
      h('td', {}, timeCell(k.lastCheckedAt)),
      h('td', {}, timeCell(k.lastUsedAt)),
      h('td', { class: 'num' }, fmtNum(k.requests)),
      h('td', { class: `num ${k.failures ? 'bad-text' : ''}` }, fmtNum(k.failures)),
      h('td', { class: 'num', title: fmtNum(k.tokens) }, fmtCompact(k.tokens)),
      actionsCell(k, { reveal: () => void revealKey(k), toggle: () => void toggle(k), restore: () => void restore([k.id]) }),
    )
    pageBoxes.push({ id: k.id, box: sel, row: tr })
    return tr
  }

  function renderPager(list: KeyList): void {
    pager.replaceChildren(
      ...pagerView(list, go, (n) => {
        state.limit = n
        state.offset = 0
        reload()
      }),
    )
  }

  function go(offset: number): void {
    state.offset = Math.max(0, offset)
    reload()
  }

  function renderSelection(): void {
    const n = state.selected.size
    if (n === 0) {
      selectionBar.replaceChildren()
      selectionBar.hidden = true
      return
    }
    selectionBar.hidden = false
    const ids = () => [...state.selected]
    const quarantine = state.filter === 'quarantined'
    set(
      selectionBar,
      h('span', { 'data-testid': 'selected-count' }, t('selectedN', { n: fmtNum(n) })),
      !quarantine && button(t('check'), () => void startCheck(ids()), { class: 'small', 'data-testid': 'sel-check' }),
      !quarantine && button(t('enable'), () => void setEnabled(ids(), true), { class: 'small', 'data-testid': 'sel-enable' }),
      !quarantine && button(t('disable'), () => void setEnabled(ids(), false), { class: 'small', 'data-testid': 'sel-disable' }),
      quarantine && button(t('restore'), () => void restore(ids()), { class: 'small', 'data-testid': 'sel-restore' }),
      button(t('delete'), () => void remove(ids()), { class: 'small danger', 'data-testid': 'sel-delete' }),
      button(t('clearSelection'), () => {
        state.selected.clear()
        for (const b of pageBoxes) {
          b.box.checked = false
          b.row.classList.remove('selected')
        }
        syncPageBox()
        renderSelection()
      }, { class: 'small ghost' }),
    )
  }

  // after an action that changed keys: reload the page and the status
  function changedReload(): void {
    changed()
    reload()
  }

  function reload(): void {
    const my = ++seq
    api
      .listKeys({
        status: filters[state.filter],
        search: state.search || undefined,
        sort: state.sort,
        desc: state.desc,
        offset: state.offset,
        limit: state.limit,
      })
      .then((list) => {
        if (my !== seq) return
        if (list.keys.length === 0 && list.total > 0 && state.offset > 0) {
          // The page emptied (keys deleted): go to the last page.
          state.offset = Math.max(0, Math.floor((list.total - 1) / state.limit) * state.limit)
          reload()
          return
        }
        state.list = list
        renderFilters(list.counts)
        renderTable(list)
        renderPager(list)
        renderSelection()
        pruneBtn.disabled = (list.counts.invalid ?? 0) + (list.counts.expired ?? 0) + (list.counts.denied ?? 0) === 0
      })
      .catch((e: unknown) => {
        if (my === seq) report(e)
      })
  }

  // ---- actions ----
  async function startCheck(ids: string[]): Promise<void> {
    await busy(checkAllBtn, async () => {
      await api.checkKeys(ids)
      state.summary = undefined
      state.seenJob ??= { id: '', state: '' }
      renderProgress((await api.getStatus()).check)
    })
  }

  function renderProgress(job: CheckJob | undefined): void {
    if (!job) return
    const seen = state.seenJob
    state.seenJob = { id: job.id, state: job.state }
    const running = job.state === 'running'
    checkAllBtn.disabled = running
    const finishedNow = !running && job.id !== '' && (seen?.id !== job.id || seen.state !== job.state) && seen !== undefined
    if (finishedNow) {
      state.summary = job
      reload()
    }
    if (running) {
      progress.replaceChildren(runningView(job, () => void cancel()))
      return
    }
    const last = state.summary
    if (last && last.state !== 'idle') {
      progress.replaceChildren(
        summaryView(last, () => {
          state.summary = undefined
          progress.replaceChildren()
        }),
      )
    } else {
      progress.replaceChildren()
    }
  }

  async function cancel(): Promise<void> {
    await busy(undefined, async () => {
      await api.cancelCheck()
      renderProgress((await api.getStatus()).check)
    })
  }

  async function prune(): Promise<void> {
    const c = state.list?.counts ?? {}
    const dead = (c.invalid ?? 0) + (c.expired ?? 0) + (c.denied ?? 0)
    if (dead === 0) {
      toast(t('noDead'))
      return
    }
    const ok = await dialog({ title: t('pruneTitle'), body: h('p', {}, t('pruneBody', { n: fmtNum(dead) })), ok: t('pruneOk', { n: fmtNum(dead) }), danger: true, testid: 'prune-dialog' })
    if (!ok) return
    await busy(pruneBtn, async () => {
      const r = await api.pruneDead()
      state.undo = r.ids.length ? { ids: r.ids, until: r.until } : undefined
      state.selected.clear()
      renderUndo()
      toast(t('prunedN', { n: fmtNum(r.quarantined) }), 'ok')
      changedReload()
    })
  }

  function renderUndo(): void {
    const u = state.undo
    if (!u) {
      undoBar.replaceChildren()
      return
    }
    undoBar.replaceChildren(
      h(
        'div',
        { class: 'notice', 'data-testid': 'prune-undo' },
        h('span', {}, t('prunedUndo', { n: fmtNum(u.ids.length), until: fmtTime(u.until) })),
        button(t('undo'), () => void undo(), { class: 'small primary', 'data-testid': 'undo' }),
        button('×', () => {
          state.undo = undefined
          renderUndo()
        }, { class: 'small ghost', title: t('close') }),
      ),
    )
  }

  async function undo(): Promise<void> {
    const u = state.undo
    if (!u) return
    await busy(undefined, async () => {
      const n = await api.restoreKeys(u.ids)
      state.undo = undefined
      renderUndo()
      toast(t('restoredN', { n: fmtNum(n) }), 'ok')
      changedReload()
    })
  }

  async function restore(ids: string[]): Promise<void> {
    await busy(undefined, async () => {
      const n = await api.restoreKeys(ids)
      ids.forEach((id) => state.selected.delete(id))
      toast(t('restoredN', { n: fmtNum(n) }), 'ok')
      changedReload()
    })
  }

  async function remove(ids: string[]): Promise<void> {
    const ok = await dialog({ title: t('deleteTitle'), body: h('p', {}, t('deleteBody', { n: fmtNum(ids.length) })), ok: t('deleteOk', { n: fmtNum(ids.length) }), danger: true, testid: 'delete-dialog' })
    if (!ok) return
    await busy(undefined, async () => {
      const r = await api.deleteKeys(ids)
      state.selected.clear()
      toast(t('deletedN', { n: fmtNum(r.deleted) }) + (r.error ? ` — ${r.error}` : ''), r.error ? 'bad' : 'ok')
      changedReload()
    })
  }

  async function setEnabled(ids: string[], enabled: boolean): Promise<void> {
    let ok = 0
    const errors: string[] = []
    await busy(undefined, async () => {
      for (const id of ids) {
        try {
          await api.setKeyEnabled(id, enabled)
          ok++
        } catch (e) {
          errors.push(api.errorText(e))
        }
      }
    })
    toast(
      (enabled ? t('enabledN', { n: fmtNum(ok) }) : t('disabledN', { n: fmtNum(ok) })) + (errors.length ? ` — ${t('notChangedN', { n: fmtNum(errors.length) })}: ${errors[0]}` : ''),
      errors.length ? 'bad' : 'ok',
    )
    changedReload()
  }

  async function toggle(k: KeyInfo): Promise<void> {
    await busy(undefined, async () => {
      await api.setKeyEnabled(k.id, k.status !== 'active')
      changedReload()
    })
  }

  async function exportKeys(): Promise<void> {
    const ok = await dialog({
      title: t('exportTitle'),
      body: [h('p', { class: 'warn-text' }, t('exportWarn')), h('p', { class: 'muted small' }, api.isDesktop() ? t('exportWhereDesktop') : t('exportWhereBrowser'))],
      ok: t('exportOk'),
      danger: true,
      testid: 'export-dialog',
    })
    if (!ok) return
    await busy(exportBtn, async () => {
      const where = await api.exportKeys()
      if (where) toast(t('exported', { file: where }), 'ok', 8000)
    })
  }

  const el = h('div', { class: 'panel', 'data-testid': 'panel-keys' }, addCard, listCard)
  selectionBar.hidden = true
  renderUndo()
  if (state.list) {
    renderFilters(state.list.counts)
    renderTable(state.list)
    renderPager(state.list)
  }

  return {
    el,
    onStatus(s: Status) {
      const before = status
      status = s
      renderProgress(s.check)
      // Keys added or removed elsewhere (tray, another browser): refresh the page.
      if (before && (before.keys.total !== s.keys.total || before.keys.disabled !== s.keys.disabled) && s.check.state !== 'running') reload()
    },
    onShow() {
      reload()
    },
  }
}

/** The "Add keys" card: paste or import a file; changed() runs after keys were added. */
function addSection(changedReload: () => void): HTMLElement {
  const text = h('textarea', {
    rows: 5,
    spellcheck: 'false',
    autocomplete: 'off',
    'data-testid': 'add-text',
    placeholder: t('addPlaceholder'),
  })
  const addResult = h('div', { 'data-testid': 'add-result' })
  const fileInput = h('input', { type: 'file', accept: '.txt,.csv,.json,.env,.log,text/*', hidden: true, 'data-testid': 'import-file' })
  const addBtn = button(t('addKeys'), () => void add(), { class: 'primary', 'data-testid': 'add-submit' })
  const importBtn = button(t('importFile'), () => fileInput.click(), { 'data-testid': 'import' })
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0]
    fileInput.value = ''
    if (f) void importFile(f)
  })

  const card = h(
    'section',
    { class: 'card', 'data-testid': 'add-card' },
    h('h2', {}, t('addTitle')),
    h('p', { class: 'muted small' }, t('addHint')),
    text,
    h('div', { class: 'row' }, addBtn, importBtn, fileInput),
    addResult,
  )

  function showAdd(r: AddResult | undefined, error?: string): void {
    state.add = r
    if (!r && !error) {
      addResult.replaceChildren()
      return
    }
    const parts: Node[] = []
    if (error) parts.push(h('p', { class: 'error', 'data-testid': 'add-error' }, error))
    if (r) {
      parts.push(
        h(
          'p',
          { class: 'counts' },
          h('span', { class: 'count ok', 'data-testid': 'add-added', 'data-n': r.added }, t('addedN', { n: fmtNum(r.added) })),
          h('span', { class: 'count', 'data-testid': 'add-existing', 'data-n': r.existing }, t('existingN', { n: fmtNum(r.existing) })),
          r.duplicates > 0 && h('span', { class: 'count muted' }, t('duplicatesN', { n: fmtNum(r.duplicates) })),
          h(
            'span',
            { class: `count ${r.malformed.length ? 'bad' : 'muted'}`, 'data-testid': 'add-malformed', 'data-n': r.malformed.length },
            t('malformedN', { n: fmtNum(r.malformed.length) }),
          ),
          r.failed > 0 && h('span', { class: 'count bad' }, t('failedN', { n: fmtNum(r.failed) })),
        ),
      )
      if (r.error) parts.push(h('p', { class: 'error' }, r.error))
    }
    const malformed = r?.malformed ?? []
    if (malformed.length) {
      parts.push(
        h(
          'div',
          { class: 'table-wrap small-table' },
          h(
            'table',
            { 'data-testid': 'malformed-table' },
            h('thead', {}, h('tr', {}, h('th', {}, t('line')), h('th', {}, t('token')), h('th', {}, t('reason')))),
            h(
              'tbody',
              {},
              ...malformed.slice(0, 100).map((m) => h('tr', {}, h('td', { class: 'num' }, m.line), h('td', { class: 'mono' }, m.text), h('td', {}, m.reason))),
            ),
          ),
        ),
      )
      if (malformed.length > 100) parts.push(h('p', { class: 'muted small' }, t('andMore', { n: fmtNum(malformed.length - 100) })))
    }
    addResult.replaceChildren(...parts)
  }

  async function add(): Promise<void> {
    const value = text.value
    if (!value.trim()) {
      showAdd(undefined, t('pasteFirst'))
      return
    }
    await adding(addBtn, async () => {
      const r = await api.addKeys(value)
      // The raw keys leave the page as soon as they are stored.
      text.value = ''
      return r
    })
  }

  async function importFile(f: File): Promise<void> {
    await adding(importBtn, () => api.importFile(f))
  }

  // adding shows what an add did; a refused one (400) shows the server's message and the
  // malformed entries it listed.
  async function adding(btn: HTMLButtonElement, run: () => Promise<AddResult>): Promise<void> {
    await busy(btn, async () => {
      try {
        showAdd(await run())
      } catch (e) {
        if (e instanceof api.ApiError && e.status === 400) {
          showAdd({ added: 0, existing: 0, restored: 0, duplicates: 0, malformed: e.malformed, failed: 0, error: '' }, e.message)
          return
        }
        throw e
      }
      changedReload()
    })
  }

  if (state.add) showAdd(state.add)
  return card
}

/** A key's label, edited in place (Enter or leaving the field saves, Escape cancels). */
function labelCell(k: KeyInfo): HTMLElement {
  const cell = h('td', { class: 'label-cell' })
  const showLabel = () => {
    cell.replaceChildren(
      h(
        'button',
        { type: 'button', class: `linkish ${k.label ? '' : 'muted'}`, title: t('editLabel'), 'data-testid': 'label-edit', onclick: editLabel },
        k.label || t('addLabel'),
      ),
    )
  }
  const editLabel = () => {
    const input = h('input', { type: 'text', value: k.label, maxlength: 200, class: 'inline', 'data-testid': 'label-input' })
    let done = false
    const save = async () => {
      if (done) return
      done = true
      const v = input.value.trim()
      if (v === k.label) {
        showLabel()
        return
      }
      try {
        await api.setKeyLabel(k.id, v)
        k.label = v
      } catch (e) {
        report(e)
      }
      showLabel()
    }
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void save()
      if (e.key === 'Escape') {
        done = true
        showLabel()
      }
    })
    input.addEventListener('blur', () => void save())
    cell.replaceChildren(input)
    input.focus()
    input.select()
  }
  showLabel()
  return cell
}

/** A key's status badge, its last check result when that says more, and the reason. */
function statusCell(k: KeyInfo): HTMLElement {
  const cls = statusClass(k.status)
  return h(
    'td',
    { class: 'status-cell' },
    h('span', { class: `badge ${cls}`, 'data-testid': 'key-status', 'data-status': k.status }, t(statusLabels[k.status] ?? 'stUnknown')),
    k.lastResult && k.lastResult !== 'ok' && k.lastResult !== k.status && h('span', { class: 'result' }, t(resultLabels[k.lastResult] ?? 'stUnknown')),
    k.reason && h('div', { class: 'reason', title: k.reason }, k.reason),
  )
}

/** A key's row buttons: reveal, enable or disable, restore. */
function actionsCell(k: KeyInfo, on: { reveal: () => void; toggle: () => void; restore: () => void }): HTMLElement {
  const canToggle = k.status === 'active' || k.status === 'disabled'
  return h(
    'td',
    { class: 'actions' },
    k.status !== 'quarantined' &&
      button(t('reveal'), on.reveal, { class: 'small ghost', 'data-testid': 'reveal', title: t('revealHint') }),
    canToggle &&
      button(k.status === 'active' ? t('disable') : t('enable'), on.toggle, {
        class: 'small ghost',
        'data-testid': 'toggle',
      }),
    k.status === 'quarantined' && button(t('restore'), on.restore, { class: 'small ghost', 'data-testid': 'restore' }),
  )
}

/** The check results of a job, one count per result. */
function resultLine(job: CheckJob): HTMLElement {
  return h(
    'span',
    { class: 'results' },
    ...Object.entries(job.byResult)
      .filter(([, n]) => n > 0)
      .map(([r, n]) => h('span', { class: `count ${r === 'ok' || r === 'rate_limited' ? 'ok' : ['invalid', 'expired', 'denied'].includes(r) ? 'bad' : 'muted'}`, 'data-result': r }, `${t(resultLabels[r] ?? 'stUnknown')} ${fmtNum(n)}`)),
  )
}

/** The pager: where this page is, the page buttons and the page size. */
function pagerView(list: KeyList, go: (offset: number) => void, setLimit: (n: number) => void): Node[] {
  const from = list.total === 0 ? 0 : list.offset + 1
  const to = Math.min(list.offset + list.keys.length, list.total)
  const size = h(
    'select',
    { 'aria-label': t('pageSize'), 'data-testid': 'page-size' },
    ...[25, 50, 100, 200, 500].map((n) => h('option', { value: n, selected: n === state.limit }, t('perPage', { n }))),
  )
  size.addEventListener('change', () => setLimit(Number(size.value)))
  const page = Math.floor(list.offset / state.limit) + 1
  const pages = Math.max(1, Math.ceil(list.total / state.limit))
  return [
    h('span', { class: 'muted', 'data-testid': 'page-info' }, t('rangeOf', { from: fmtNum(from), to: fmtNum(to), total: fmtNum(list.total) })),
    h(
      'div',
      { class: 'row' },
      button('«', () => go(0), { class: 'small ghost', disabled: page <= 1, title: t('firstPage') }),
      button('‹', () => go(state.offset - state.limit), { class: 'small ghost', disabled: page <= 1, 'data-testid': 'page-prev', title: t('prevPage') }),
      h('span', { class: 'muted' }, t('pageOf', { page: fmtNum(page), pages: fmtNum(pages) })),
      button('›', () => go(state.offset + state.limit), { class: 'small ghost', disabled: page >= pages, 'data-testid': 'page-next', title: t('nextPage') }),
      button('»', () => go((pages - 1) * state.limit), { class: 'small ghost', disabled: page >= pages, title: t('lastPage') }),
      size,
    ),
  ]
}

/** Shows one key in full, on an explicit click, with a copy button. */
async function revealKey(k: KeyInfo): Promise<void> {
  const raw = await busy(undefined, () => api.revealKey(k.id))
  if (raw === undefined) return
  const copy = button(t('copy'), () => {
    void busy(copy, async () => {
      await api.copyText(raw)
      toast(t('copied'), 'ok')
    })
  }, { class: 'primary', 'data-testid': 'reveal-copy' })
  await dialog({
    title: t('revealTitle', { key: k.preview }),
    body: [h('p', { class: 'muted small' }, t('revealWarn')), h('div', { class: 'row' }, h('code', { class: 'secret', 'data-testid': 'revealed-key' }, raw), copy)],
    testid: 'reveal-dialog',
  })
}

/** A running check: its progress bar, the results so far and Cancel. */
function runningView(job: CheckJob, onCancel: () => void): HTMLElement {
  const pct = job.total > 0 ? Math.round((job.done / job.total) * 100) : 0
  return h(
    'div',
    { class: 'progress', 'data-state': 'running' },
    h('div', { class: 'row between' }, h('span', {}, job.total > 0 ? t('checkingN', { done: fmtNum(job.done), total: fmtNum(job.total) }) : t('checkingStart')), button(t('cancel'), onCancel, { class: 'small', 'data-testid': 'check-cancel' })),
    h(
      'div',
      { class: `bar ${job.total > 0 ? '' : 'indeterminate'}`, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': job.total > 0 ? pct : undefined },
      h('div', { style: job.total > 0 ? `width:${pct}%` : undefined }),
    ),
    resultLine(job),
  )
}

/** How the last check ended, with its results and a close button. */
function summaryView(last: CheckJob, onClose: () => void): HTMLElement {
  return h(
    'div',
    { class: `progress done ${last.state}`, 'data-state': last.state, 'data-testid': 'check-summary' },
    h(
      'span',
      {},
      last.state === 'canceled' ? t('checkCanceled', { done: fmtNum(last.done), total: fmtNum(last.total) }) : last.state === 'failed' ? t('checkFailed', { error: last.error }) : t('checkDone', { n: fmtNum(last.done) }),
      ' ',
    ),
    resultLine(last),
    h('span', { class: 'muted small' }, fmtTime(last.finishedAt)),
    button('×', onClose, { class: 'small ghost', title: t('close') }),
  )
}

// The Stats tab: totals for a time range, a requests chart (inline SVG), usage per model and per
// key, today's counts per key and model in the free-tier day, and the request log with wipe.

import * as api from './api'
import type { Counts, LogPage, Series, StatsAnswer, Today } from './api'
import { busy, button, dialog, fmtClock, fmtCompact, fmtNum, fmtPct, fmtTime, h, report, s, toast } from './dom'
import { lang, t, type Key } from './i18n'

const ranges: [string, Key, string][] = [
  ['1h', 'range1h', 'minute'],
  ['24h', 'range24h', 'hour'],
  ['7d', 'range7d', 'hour'],
  ['30d', 'range30d', 'hour'],
]

const state = { range: '24h', logOffset: 0, logLimit: 50 }

/** The Stats tab. */
export interface StatsPanel {
  el: HTMLElement
  onShow(): void
  onHide(): void
}

// ---- chart ----------------------------------------------------------------------------------

const H = 200
const PAD = { l: 44, r: 12, t: 10, b: 24 }

function niceMax(v: number): number {
  if (v <= 4) return 4
  const p = Math.pow(10, Math.floor(Math.log10(v)))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

/** An SVG chart of requests (and failures) per bucket, width pixels wide (drawn 1:1). */
export function chart(series: Series, width: number): SVGElement {
  const W = Math.max(360, Math.round(width))
  const pts = series.points
  const n = Math.max(pts.length, 1)
  const max = niceMax(Math.max(0, ...pts.map((p) => p.requests)))
  const iw = W - PAD.l - PAD.r
  const ih = H - PAD.t - PAD.b
  const x = (i: number) => PAD.l + (i / n) * iw
  const y = (v: number) => PAD.t + ih - (v / max) * ih
  const hourly = series.resolution === 'hour'
  const label = (iso: string) =>
    hourly ? new Intl.DateTimeFormat(lang(), { month: 'numeric', day: 'numeric', hour: '2-digit' }).format(new Date(iso)) : fmtClock(iso)

  const grid: SVGElement[] = []
  for (const f of [0, 0.5, 1]) {
    const v = max * f
    grid.push(
      s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, fmtCompact(v)),
    )
  }
  const ticks = Math.min(6, pts.length)
  for (let k = 0; k < ticks; k++) {
    const i = Math.round((k * (pts.length - 1)) / Math.max(ticks - 1, 1))
    const anchor = k === 0 ? 'start' : k === ticks - 1 ? 'end' : 'middle'
    const at = k === 0 ? x(0) : k === ticks - 1 ? x(n) : x(i + 0.5)
    grid.push(s('text', { x: at, y: H - 6, 'text-anchor': anchor, class: 'axis' }, label(pts[i].time)))
  }

  const marks: SVGElement[] = []
  if (pts.length <= 120) {
    const bw = Math.max(1, iw / n - (n > 60 ? 1 : 2))
    pts.forEach((p, i) => {
      if (p.requests === 0) return
      const g = s('g', {}, s('title', {}, `${label(p.time)} · ${t('requests')} ${fmtNum(p.requests)} · ${t('failures')} ${fmtNum(p.failures)}`))
      g.append(s('rect', { x: x(i) + 0.5, y: y(p.requests), width: bw, height: Math.max(0, y(p.failures) - y(p.requests)), class: 'bar-ok' }))
      if (p.failures > 0) g.append(s('rect', { x: x(i) + 0.5, y: y(p.failures), width: bw, height: y(0) - y(p.failures), class: 'bar-bad' }))
      marks.push(g)
    })
  } else {
    const path = (v: (c: Counts) => number) =>
      `M${x(0)},${y(0)} ` + pts.map((p, i) => `L${x(i + 0.5).toFixed(1)},${y(v(p)).toFixed(1)}`).join(' ') + ` L${x(n)},${y(0)} Z`
    marks.push(s('path', { d: path((c) => c.requests), class: 'area-ok' }), s('path', { d: path((c) => c.failures), class: 'area-bad' }))
  }
  const empty = pts.every((p) => p.requests === 0)
  return s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart', role: 'img', 'aria-label': t('chartLabel'), 'data-testid': 'chart' },
    ...grid,
    ...marks,
    empty && s('text', { x: PAD.l + iw / 2, y: PAD.t + ih / 2, 'text-anchor': 'middle', class: 'empty-text' }, t('noTraffic')),
  )
}

// ---- tables ---------------------------------------------------------------------------------

function usageTable(rows: { name: Node | string; c: Counts }[], firstCol: Key, testid: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted', 'data-testid': testid }, t('noTraffic'))
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { 'data-testid': testid },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, t(firstCol)),
          h('th', { class: 'num' }, t('requests')),
          h('th', { class: 'num' }, t('successRate')),
          h('th', { class: 'num' }, t('failures')),
          h('th', { class: 'num' }, t('rateLimited')),
          h('th', { class: 'num' }, t('promptTokens')),
          h('th', { class: 'num' }, t('outputTokens')),
          h('th', { class: 'num' }, t('thoughtTokens')),
        ),
      ),
      h(
        'tbody',
        {},
        ...rows.map(({ name, c }) =>
          h(
            'tr',
            {},
            h('td', {}, name),
            h('td', { class: 'num' }, fmtNum(c.requests)),
            h('td', { class: 'num' }, fmtPct(c.successes, c.requests)),
            h('td', { class: `num ${c.failures ? 'bad-text' : ''}`, title: Object.entries(c.byClass).filter(([k]) => k !== 'ok').map(([k, v]) => `${k}: ${v}`).join(', ') }, fmtNum(c.failures)),
            h('td', { class: 'num' }, fmtNum(c.rateLimited)),
            h('td', { class: 'num', title: fmtNum(c.promptTokens) }, fmtCompact(c.promptTokens)),
            h('td', { class: 'num', title: fmtNum(c.outputTokens) }, fmtCompact(c.outputTokens)),
            h('td', { class: 'num', title: fmtNum(c.thoughtTokens) }, fmtCompact(c.thoughtTokens)),
          ),
        ),
      ),
    ),
  )
}

function keyName(preview: string, label: string, id: string): HTMLElement {
  return h('span', { title: id }, h('span', { class: 'mono' }, preview || id || t('noKey')), label && h('span', { class: 'muted small' }, ` ${label}`))
}

/** Builds the Stats tab. */
export function statsPanel(): StatsPanel {
  let timer: number | undefined
  let seq = 0

  const rangeSel = h('select', { 'data-testid': 'stats-range', 'aria-label': t('range') }, ...ranges.map(([v, label]) => h('option', { value: v, selected: v === state.range }, t(label))))
  rangeSel.addEventListener('change', () => {
    state.range = rangeSel.value
    load()
  })
  const refreshBtn = button(t('refresh'), () => load(), { class: 'ghost small', 'data-testid': 'stats-refresh' })
  const cards = h('div', { class: 'cards', 'data-testid': 'stats-cards' })
  const chartBox = h('div', { class: 'chart-box' })
  const byModel = h('div')
  const byKey = h('div')
  const todayBox = h('div')
  const todayNote = h('p', { class: 'muted small' })
  const logBox = h('div')
  const logPager = h('div', { class: 'pager' })
  const wipeBtn = button(t('wipeLog'), () => void wipe(), { class: 'small danger-ghost', 'data-testid': 'wipe-log' })

  const el = h(
    'div',
    { class: 'panel', 'data-testid': 'panel-stats' },
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'row between' }, h('h2', {}, t('statsTitle')), h('div', { class: 'row' }, rangeSel, refreshBtn)),
      cards,
      chartBox,
    ),
    h('section', { class: 'card' }, h('h2', {}, t('byModel')), byModel),
    h('section', { class: 'card' }, h('h2', {}, t('byKey')), byKey),
    h('section', { class: 'card' }, h('h2', {}, t('todayTitle')), todayNote, todayBox),
    h('section', { class: 'card' }, h('div', { class: 'row between' }, h('h2', {}, t('logTitle')), wipeBtn), h('p', { class: 'muted small' }, t('logHint')), logBox, logPager),
  )

  function renderCards(st: StatsAnswer): void {
    const c = st.sum
    const card = (label: Key, value: string, sub?: string, cls = '') =>
      h('div', { class: `stat ${cls}` }, h('div', { class: 'label' }, t(label)), h('div', { class: 'value' }, value), sub && h('div', { class: 'sub' }, sub))
    cards.replaceChildren(
      h('div', { 'data-testid': 'stat-requests', 'data-n': c.requests, class: 'contents' }, card('requests', fmtNum(c.requests))),
      card('successRate', fmtPct(c.successes, c.requests), t('okN', { n: fmtNum(c.successes) }), 'ok'),
      card('failures', fmtNum(c.failures), t('rateLimitedN', { n: fmtNum(c.rateLimited) }), c.failures ? 'bad' : ''),
      card('tokens', fmtCompact(c.promptTokens + c.outputTokens + c.thoughtTokens), t('tokenSplit', { p: fmtCompact(c.promptTokens), o: fmtCompact(c.outputTokens), th: fmtCompact(c.thoughtTokens) })),
    )
  }

  function renderToday(td: Today): void {
    todayNote.textContent = t('todayHint', { time: fmtTime(td.resetsAt) })
    if (td.counts.length === 0) {
      todayBox.replaceChildren(h('p', { class: 'muted', 'data-testid': 'today-table' }, t('noTraffic')))
      return
    }
    todayBox.replaceChildren(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { 'data-testid': 'today-table' },
          h('thead', {}, h('tr', {}, h('th', {}, t('colKey')), h('th', {}, t('model')), h('th', { class: 'num' }, t('requests')), h('th', { class: 'num' }, t('rateLimited')))),
          h(
            'tbody',
            {},
            ...td.counts.map((c) =>
              h('tr', {}, h('td', {}, keyName(c.preview, c.label, c.keyId)), h('td', { class: 'mono' }, c.model || '–'), h('td', { class: 'num' }, fmtNum(c.requests)), h('td', { class: 'num' }, fmtNum(c.rateLimited))),
            ),
          ),
        ),
      ),
    )
  }

  function renderLog(page: LogPage): void {
    if (page.entries.length === 0) {
      logBox.replaceChildren(h('p', { class: 'muted', 'data-testid': 'log-table' }, t('logEmpty')))
      logPager.replaceChildren()
      return
    }
    logBox.replaceChildren(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { 'data-testid': 'log-table', class: 'log' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, t('time')),
              h('th', {}, t('route')),
              h('th', {}, t('model')),
              h('th', {}, t('colKey')),
              h('th', { class: 'num' }, t('httpStatus')),
              h('th', {}, t('outcome')),
              h('th', { class: 'num' }, t('attempts')),
              h('th', { class: 'num' }, t('latency')),
              h('th', { class: 'num' }, t('tokens')),
            ),
          ),
          h(
            'tbody',
            {},
            ...page.entries.map((e) =>
              h(
                'tr',
                { 'data-testid': 'log-row' },
                h('td', { class: 'nowrap' }, fmtTime(e.time)),
                h('td', { class: 'mono small' }, e.route, e.stream ? h('span', { class: 'tag' }, 'SSE') : ''),
                h('td', { class: 'mono small' }, e.model || '–'),
                h('td', {}, e.preview ? h('span', { class: 'mono' }, e.preview) : '–'),
                h('td', { class: `num ${e.status >= 400 ? 'bad-text' : ''}` }, e.status || '–'),
                h('td', {}, h('span', { class: `badge ${e.class === 'ok' ? 'ok' : e.class === 'canceled' ? 'muted' : 'bad'}` }, e.class)),
                h('td', { class: 'num' }, e.attempts),
                h('td', { class: 'num' }, `${fmtNum(e.latencyMs)} ms`),
                h('td', { class: 'num', title: `${t('promptTokens')} ${fmtNum(e.promptTokens)} · ${t('outputTokens')} ${fmtNum(e.outputTokens)} · ${t('thoughtTokens')} ${fmtNum(e.thoughtTokens)}` }, fmtCompact(e.promptTokens + e.outputTokens + e.thoughtTokens)),
              ),
            ),
          ),
        ),
      ),
    )
    const page0 = Math.floor(page.offset / state.logLimit) + 1
    const pages = Math.max(1, Math.ceil(page.total / state.logLimit))
    logPager.replaceChildren(
      h('span', { class: 'muted' }, t('rangeOf', { from: fmtNum(page.offset + 1), to: fmtNum(page.offset + page.entries.length), total: fmtNum(page.total) })),
      h(
        'div',
        { class: 'row' },
        button('‹', () => {
          state.logOffset = Math.max(0, state.logOffset - state.logLimit)
          loadLog()
        }, { class: 'small ghost', disabled: page0 <= 1 }),
        h('span', { class: 'muted' }, t('pageOf', { page: fmtNum(page0), pages: fmtNum(pages) })),
        button('›', () => {
          state.logOffset += state.logLimit
          loadLog()
        }, { class: 'small ghost', disabled: page0 >= pages }),
      ),
    )
  }

  function loadLog(): void {
    api.requestLog(state.logOffset, state.logLimit).then(renderLog).catch(report)
  }

  function load(): void {
    const my = ++seq
    const [since, , resolution] = ranges.find(([v]) => v === state.range) ?? ranges[1]
    Promise.all([api.stats('model', since), api.stats('key', since), api.series(resolution, since), api.today()])
      .then(([models, keys, ser, td]) => {
        if (my !== seq) return
        renderCards(models)
        chartBox.replaceChildren(chart(ser, (chartBox.clientWidth || 980) - 14))
        byModel.replaceChildren(usageTable(models.totals.map((m) => ({ name: h('span', { class: 'mono' }, m.model || '–'), c: m })), 'model', 'by-model'))
        byKey.replaceChildren(usageTable(keys.totals.map((k) => ({ name: keyName(k.preview, k.label, k.keyId), c: k })), 'colKey', 'by-key'))
        renderToday(td)
      })
      .catch((e: unknown) => {
        if (my === seq) report(e)
      })
    loadLog()
  }

  async function wipe(): Promise<void> {
    const ok = await dialog({ title: t('wipeTitle'), body: h('p', {}, t('wipeBody')), ok: t('wipeLog'), danger: true, testid: 'wipe-dialog' })
    if (!ok) return
    await busy(wipeBtn, async () => {
      const n = await api.wipeLog()
      state.logOffset = 0
      toast(t('wipedN', { n: fmtNum(n) }), 'ok')
      loadLog()
    })
  }

  return {
    el,
    onShow() {
      load()
      window.clearInterval(timer)
      timer = window.setInterval(load, 15_000)
    },
    onHide() {
      window.clearInterval(timer)
      timer = undefined
    },
  }
}

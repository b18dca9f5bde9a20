// Small DOM helpers: element builders, number/time formatting in the UI language, toasts and
// modal dialogs. No framework: panels build their elements once and update parts of them.

import { lang, t } from './i18n'

/** A child of h(): nodes and strings; null, undefined and false are skipped. */
export type Child = Node | string | number | null | undefined | false

/** Attribute values; functions under on* names become event listeners. */
export type Attrs = Record<string, string | number | boolean | undefined | null | ((e: Event) => void)>

function apply(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === undefined || v === null) continue
    if (typeof v === 'function') {
      el.addEventListener(k.slice(2), v)
    } else {
      el.setAttribute(k, v === true ? '' : String(v))
    }
  }
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    el.append(typeof c === 'number' ? String(c) : c)
  }
}

/** Builds an HTML element. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  apply(el, attrs)
  append(el, children)
  return el
}

/** Builds an SVG element. */
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag)
  apply(el, attrs)
  append(el, children)
  return el
}

/** A button. */
export function button(label: Child, onclick: () => void, attrs: Attrs = {}): HTMLButtonElement {
  const cls = typeof attrs.class === 'string' ? attrs.class : ''
  return h('button', { type: 'button', ...attrs, class: `btn ${cls}`.trim(), onclick: () => onclick() }, label)
}

// ---- formatting -----------------------------------------------------------------------------

/** A whole number with grouping in the UI language. */
export function fmtNum(n: number): string {
  return new Intl.NumberFormat(lang()).format(n)
}

/** A compact number (1.2K, 3.4M / 1.2万). */
export function fmtCompact(n: number): string {
  return new Intl.NumberFormat(lang(), { notation: 'compact', maximumFractionDigits: 1 }).format(n)
}

/** A percentage of part in whole ("–" when whole is 0). */
export function fmtPct(part: number, whole: number): string {
  if (!whole) return '–'
  return new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: 1 }).format(part / whole)
}

function parse(iso: string): Date | undefined {
  if (!iso) return undefined
  const d = new Date(iso)
  // Go's zero time marshals as 0001-01-01.
  return Number.isNaN(d.getTime()) || d.getFullYear() < 1971 ? undefined : d
}

/** A date and time in the UI language; "–" for none. */
export function fmtTime(iso: string): string {
  const d = parse(iso)
  if (!d) return '–'
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'short', timeStyle: 'medium' }).format(d)
}

/** A clock time (hh:mm) in the UI language. */
export function fmtClock(iso: string): string {
  const d = parse(iso)
  if (!d) return '–'
  return new Intl.DateTimeFormat(lang(), { hour: '2-digit', minute: '2-digit' }).format(d)
}

/** "3 minutes ago" / "in 2 hours" in the UI language; "never" for none. */
export function relTime(iso: string, now = Date.now()): string {
  const d = parse(iso)
  if (!d) return t('never')
  const sec = Math.round((d.getTime() - now) / 1000)
  const rtf = new Intl.RelativeTimeFormat(lang(), { numeric: 'auto' })
  const abs = Math.abs(sec)
  if (abs < 45) return rtf.format(0, 'second')
  if (abs < 3600) return rtf.format(Math.round(sec / 60), 'minute')
  if (abs < 86400) return rtf.format(Math.round(sec / 3600), 'hour')
  return rtf.format(Math.round(sec / 86400), 'day')
}

/** A time element showing relTime with the full time as its tooltip. */
export function timeCell(iso: string): HTMLElement {
  return h('span', { title: parse(iso) ? fmtTime(iso) : undefined }, relTime(iso))
}

// ---- toasts -----------------------------------------------------------------------------------

let toasts: HTMLElement | undefined

/** Shows a short notice at the bottom of the window. */
export function toast(message: string, kind: 'ok' | 'bad' | 'info' = 'info', ms = 4000): void {
  if (!toasts || !toasts.isConnected) {
    toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' })
    document.body.append(toasts)
  }
  const el = h('div', { class: `toast ${kind}`, 'data-testid': 'toast' }, message)
  toasts.append(el)
  while (toasts.childElementCount > 3) toasts.firstElementChild?.remove()
  window.setTimeout(() => el.remove(), kind === 'bad' ? ms * 2 : ms)
}

// ---- dialogs ----------------------------------------------------------------------------------

/** Options of a modal dialog. */
export interface DialogOptions {
  title: string
  body: Child | Child[]
  /** The confirm button's text; absent for an information dialog. */
  ok?: string
  cancel?: string
  danger?: boolean
  testid?: string
}

/** Shows a modal dialog; resolves true when confirmed. The dialog is removed when closed. */
export function dialog(o: DialogOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const body = Array.isArray(o.body) ? o.body : [o.body]
    const dlg = h('dialog', { class: 'dialog', 'data-testid': o.testid ?? 'dialog' })
    const close = (v: boolean) => {
      dlg.close()
      dlg.remove()
      resolve(v)
    }
    const buttons = h(
      'div',
      { class: 'row end' },
      button(o.cancel ?? (o.ok ? t('cancel') : t('close')), () => close(false), { 'data-testid': 'dialog-cancel', class: 'ghost' }),
      o.ok && button(o.ok, () => close(true), { 'data-testid': 'dialog-ok', class: o.danger ? 'danger' : 'primary' }),
    )
    dlg.append(h('h3', {}, o.title), h('div', { class: 'dialog-body' }, ...body), buttons)
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault()
      close(false)
    })
    document.body.append(dlg)
    dlg.showModal()
  })
}

let errorHook: (e: unknown) => boolean = () => false

/** Sets what busy() does with an error first (e.g. a lost login); true means handled. */
export function onError(hook: (e: unknown) => boolean): void {
  errorHook = hook
}

/** Reports an error: to the hook, else as a toast. */
export function report(e: unknown): void {
  if (!errorHook(e)) toast(e instanceof Error ? e.message : String(e), 'bad')
}

/** Runs fn while el (a button) shows it is busy; an error is reported and gives undefined. */
export async function busy<T>(el: HTMLButtonElement | undefined, fn: () => Promise<T>): Promise<T | undefined> {
  if (el) el.disabled = true
  try {
    return await fn()
  } catch (e) {
    report(e)
    return undefined
  } finally {
    if (el) el.disabled = false
  }
}

/** Replaces el's children (null, undefined and false are skipped). */
export function set(el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

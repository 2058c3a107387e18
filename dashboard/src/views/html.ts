// A few DOM builders shared by the alerts, rules and datasets views, so each view reads as the
// structure it renders rather than as createElement calls. Text always goes in as text nodes:
// nothing the server sends (alert messages, SQL, dataset cells) is ever parsed as HTML.

import { el, type Child } from '../shell/dom.js';
import { errorText, formatTime } from './text.js';

/** Attributes: `true` sets an empty attribute, `false`/`undefined` leaves it out. */
export type Attrs = Record<string, string | number | boolean | undefined>;

/** The shell's builder (shell/dom.ts) in the attributes-only form these views use. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  return el(tag, { attrs }, ...children);
}

/** A `<time>` element: the local time as text, the exact instant in `datetime` for tests and tools. */
export function timeElement(ms: number | undefined): HTMLElement {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return h('span', {}, '—');
  return h('time', { datetime: new Date(ms).toISOString() }, formatTime(ms));
}

/**
 * The place a view reports failures: a role=alert element that is empty and hidden until there is
 * something to say (screen readers announce it when its text appears).
 */
export interface ErrorBox {
  readonly element: HTMLElement;
  show(error: unknown): void;
  clear(): void;
}

export function createErrorBox(testId: string): ErrorBox {
  const element = h('p', { class: 'view-error', role: 'alert', 'data-testid': testId, hidden: true });
  return {
    element,
    show(error) {
      element.textContent = errorText(error);
      element.hidden = false;
    },
    clear() {
      element.textContent = '';
      element.hidden = true;
    },
  };
}

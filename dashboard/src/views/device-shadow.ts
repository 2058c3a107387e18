// The device view's shadow panel: the classic shadow from the AWS data-plane route
// (GET /things/<thing>/shadow, 404 ResourceNotFoundException = none yet), desired and reported
// side by side, refreshed every 2 s while shown so the device's reported update appears; and an
// editor for the desired state, saved as POST /things/<thing>/shadow {"state":{"desired": ...}}.

import { ApiError, describeError } from '../api.js';
import { el, setText } from '../shell/dom.js';
import type { Api } from '../view.js';

const REFRESH_MS = 2_000;

/** The part of a shadow document (AWS shape) the panel shows. */
export interface ShadowDocument {
  state?: { desired?: unknown; reported?: unknown; delta?: unknown };
  version?: number;
  timestamp?: number;
}

export type DesiredParse = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/** The editor's text as a desired state: JSON, and an object (AWS refuses anything else there). */
export function parseDesired(text: string): DesiredParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `Not valid JSON: ${(error as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'The desired state must be a JSON object, e.g. {"led": "on"}.' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

export function shadowPath(thingName: string): string {
  return `/things/${encodeURIComponent(thingName)}/shadow`;
}

/** Pretty JSON of one side of the shadow, or a dash when the side is absent. */
export function prettySide(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value, null, 2);
}

export interface ShadowPanel {
  readonly element: HTMLElement;
  show(thingName: string): void;
  hide(): void;
}

export function createShadowPanel(api: Api): ShadowPanel {
  let thing = '';
  let timer: ReturnType<typeof setTimeout> | null = null;
  let generation = 0;
  /** the operator typed in the editor since it was last filled from the shadow */
  let dirty = false;
  let lastDesired: unknown = undefined;

  const desired = el('pre', { attrs: { id: 'shadow-desired', 'data-testid': 'shadow-desired', tabindex: 0 }, className: 'json' });
  const reported = el('pre', { attrs: { id: 'shadow-reported', 'data-testid': 'shadow-reported', tabindex: 0 }, className: 'json' });
  const status = el('p', { attrs: { id: 'shadow-status', role: 'status' }, className: 'muted' });
  const editor = el('textarea', { attrs: { id: 'shadow-editor', rows: 8, spellcheck: 'false', 'aria-describedby': 'shadow-editor-help shadow-error' }, className: 'json' });
  const error = el('p', { attrs: { id: 'shadow-error', role: 'alert' }, className: 'error' });
  error.hidden = true;
  const save = el('button', { attrs: { id: 'shadow-save', type: 'submit' }, text: 'Save desired state' });
  const reset = el('button', { attrs: { id: 'shadow-reset', type: 'button' }, className: 'secondary', text: 'Reset to current' });

  const form = el(
    'form',
    { className: 'shadow-editor', attrs: { 'aria-label': 'Edit the desired state' } },
    el('label', { attrs: { for: 'shadow-editor' }, text: 'Desired state (JSON object)' }),
    el('p', { attrs: { id: 'shadow-editor-help' }, className: 'note', text: 'Keys set to null are removed. The device sees the difference to its reported state as the delta.' }),
    editor,
    error,
    el('div', { className: 'buttons' }, save, reset),
  );

  const element = el(
    'section',
    { className: 'panel shadow-panel', attrs: { 'aria-labelledby': 'shadow-title', 'data-testid': 'shadow-panel' } },
    el('div', { className: 'panel-head' }, el('h3', { attrs: { id: 'shadow-title' }, text: 'Shadow' }), status),
    el(
      'div',
      { className: 'shadow-sides' },
      el('div', {}, el('h4', { text: 'Desired' }), desired),
      el('div', {}, el('h4', { text: 'Reported' }), reported),
    ),
    form,
  );

  function showError(text: string): void {
    error.textContent = text;
    error.hidden = text === '';
    editor.setAttribute('aria-invalid', String(text !== ''));
  }

  function fillEditor(value: unknown): void {
    editor.value = JSON.stringify(value ?? {}, null, 2);
    dirty = false;
    showError('');
  }

  function render(doc: ShadowDocument | null): void {
    const state = doc?.state ?? {};
    setText(desired, doc ? prettySide(state.desired) : 'No shadow yet.');
    setText(reported, doc ? prettySide(state.reported) : 'No shadow yet.');
    const deltaKeys = state.delta && typeof state.delta === 'object' ? Object.keys(state.delta) : [];
    setText(
      status,
      doc
        ? `version ${doc.version ?? '?'}${doc.timestamp ? `, updated ${new Date(doc.timestamp * 1000).toLocaleTimeString()}` : ''} · ` +
            (deltaKeys.length === 0 ? 'in sync' : `delta: ${deltaKeys.join(', ')}`)
        : 'no shadow yet',
    );
    element.dataset.version = String(doc?.version ?? 0);
    lastDesired = state.desired;
    if (!dirty) fillEditor(lastDesired);
  }

  async function refresh(started: number): Promise<void> {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    try {
      const doc = await api.request<ShadowDocument>('GET', shadowPath(thing));
      if (started !== generation) return;
      render(doc);
    } catch (cause) {
      if (started !== generation) return;
      if (cause instanceof ApiError && cause.status === 404) render(null);
      else setText(status, `Cannot load the shadow: ${describeError(cause)}`);
    }
    if (started !== generation) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => void refresh(started), REFRESH_MS);
  }

  editor.addEventListener('input', () => {
    dirty = true;
    const parsed = parseDesired(editor.value);
    showError(parsed.ok ? '' : parsed.error);
  });

  reset.addEventListener('click', () => fillEditor(lastDesired));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const parsed = parseDesired(editor.value);
    if (!parsed.ok) {
      showError(parsed.error);
      editor.focus();
      return;
    }
    const started = generation;
    save.disabled = true;
    api
      .request<ShadowDocument>('POST', shadowPath(thing), { state: { desired: parsed.value } })
      .then((accepted) => {
        if (started !== generation) return;
        dirty = false;
        setText(status, `saved, version ${accepted?.version ?? '?'}`);
        void refresh(started);
      })
      .catch((cause: unknown) => {
        if (started === generation) showError(`Not saved: ${describeError(cause)}`);
      })
      .finally(() => {
        save.disabled = false;
      });
  });

  return {
    element,
    show(thingName) {
      generation++;
      if (thingName !== thing) {
        thing = thingName;
        dirty = false;
        lastDesired = undefined;
        editor.value = '';
        showError('');
        setText(desired, '…');
        setText(reported, '…');
        setText(status, 'loading…');
      }
      void refresh(generation);
    },
    hide() {
      generation++;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}

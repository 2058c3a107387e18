// A small element builder for the views: attributes, properties and children in one call, so
// view code reads like the DOM it builds. Text is always set as text (never parsed as HTML).

export type Child = Node | string | null | undefined | false;

export interface ElementSpec {
  /** attributes (data-*, aria-*, role, for, ...); false or undefined leaves one out */
  attrs?: Record<string, string | number | boolean | undefined>;
  className?: string;
  text?: string;
  on?: Partial<Record<keyof HTMLElementEventMap, (event: Event) => void>>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, spec: ElementSpec = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (spec.className) element.className = spec.className;
  for (const [name, value] of Object.entries(spec.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  if (spec.text !== undefined) element.textContent = spec.text;
  for (const [type, handler] of Object.entries(spec.on ?? {})) if (handler) element.addEventListener(type, handler);
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

/** Sets text only when it changed (no needless layout work on periodic refreshes). */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/** Helpers shared by the Playground and Pack Statistics webviews. */

export interface VsCodeApi<Message> {
  postMessage(message: Message): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi<Message>(): VsCodeApi<Message>;

/** The webview API; VS Code allows one call per page load. */
export function vscodeApi<Message>(): VsCodeApi<Message> {
  return acquireVsCodeApi<Message>();
}

/** Reads the localized strings that the host put in `<body data-strings>`; a missing key shows as itself. */
export function readStrings<const K extends string>(keys: readonly K[]): Record<K, string> {
  const raw = document.body.dataset.strings ?? '{}';
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    // Keys are shown instead of text; the page stays usable.
  }
  const result = {} as Record<K, string>;
  for (const key of keys) {
    const value = parsed[key];
    result[key] = typeof value === 'string' ? value : key;
  }
  return result;
}

/** Replaces `{0}`, `{1}`, … in a localized template. */
export function format(template: string, ...values: (string | number)[]): string {
  return template.replace(/\{(\d+)\}/g, (match, index: string) => String(values[Number(index)] ?? match));
}

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Sends uncaught script errors to the host log through `report`. */
export function reportErrors(report: (message: string) => void): void {
  window.addEventListener('error', (event) => report(String(event.message).slice(0, 2_000)));
  window.addEventListener('unhandledrejection', (event) => report(String(event.reason).slice(0, 2_000)));
}

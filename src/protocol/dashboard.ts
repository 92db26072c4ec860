/**
 * Messages between the extension host and the dashboard webview (`postMessage`). Both sides
 * validate what they receive. The webview's first message is `ready` with its protocol version.
 * The host replies with `init`, which carries the full history of the shown run.
 */
import { historyRecord } from './trainEvents';
import { array, integer, literal, number, object, oneOf, optional, string, tagged, type Infer } from './validate';

/** Raised by one on every incompatible change to this file. */
export const DASHBOARD_PROTOCOL_VERSION = 1;

export const runStates = ['starting', 'running', 'cancelling', 'done', 'cancelled', 'failed', 'replayed'] as const;

export const runInfo = object({
  id: string,
  packName: string,
  packDir: string,
  modelDir: string,
  startedAt: string,
  state: oneOf(runStates),
  message: optional(string),
  /** Block numbers of the Engram layers, for runs whose history has no start event (a saved pack's history). */
  layers: optional(array(integer, 4096)),
});

/** Maximum records per message. The host sends a longer history as `init` followed by `append` messages. */
export const maxRecordsPerMessage = 50_000;

const records = array(historyRecord, maxRecordsPerMessage);

export const hostToDashboard = tagged('type', {
  init: object({ type: literal('init'), protocolVersion: integer, run: optional(runInfo), records }),
  append: object({ type: literal('append'), runId: string, records }),
  state: object({ type: literal('state'), run: runInfo }),
  notice: object({ type: literal('notice'), message: string }),
});
export type HostToDashboard = Infer<typeof hostToDashboard>;

export const dashboardToHost = tagged('type', {
  ready: object({ type: literal('ready'), protocolVersion: integer }),
  cancel: object({ type: literal('cancel'), runId: string }),
  exportCsv: object({ type: literal('exportCsv'), runId: string, smoothing: number }),
  /** A script error in the webview, for the log. */
  error: object({ type: literal('error'), message: string }),
});
export type DashboardToHost = Infer<typeof dashboardToHost>;

/**
 * Localized dashboard text. The host fills it with `vscode.l10n.t` and embeds it in the page.
 * The webview replaces the placeholders `{0}` and `{1}`.
 */
export const dashboardStringKeys = [
  'noRun',
  'noData',
  'loss',
  'lossRaw',
  'lossSmoothed',
  'evalLoss',
  'preservationLoss',
  'learningRate',
  'tokensPerSecond',
  'memory',
  'backendBytes',
  'rssBytes',
  'gpuBytes',
  'rowsTouched',
  'rowsTouchedShare',
  'rowHits',
  'layer',
  'rowHitsCaption',
  'smoothing',
  'logScale',
  'exportCsv',
  'cancel',
  'stepProgress',
  'timeLeft',
  'state.starting',
  'state.running',
  'state.cancelling',
  'state.done',
  'state.cancelled',
  'state.failed',
  'state.replayed',
] as const;
export type DashboardStrings = Record<(typeof dashboardStringKeys)[number], string>;

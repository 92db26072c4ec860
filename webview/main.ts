/**
 * Dashboard webview: live charts of one training run. The host sends the run's full history on
 * `init` and batches of new records on `append`; every message is validated before use.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import './style.css';
import {
  DASHBOARD_PROTOCOL_VERSION,
  dashboardStringKeys,
  hostToDashboard,
  type DashboardStrings,
  type DashboardToHost,
  type HostToDashboard,
} from '../src/protocol/dashboard';
import type { HistoryRecord } from '../src/protocol/trainEvents';
import { check, type Infer } from '../src/protocol/validate';
import type { runInfo } from '../src/protocol/dashboard';
import { Heatmap } from './charts/heatmap';
import { LineChart, type ChartSeries } from './charts/lineChart';
import { buildSeries, estimateSecondsLeft } from './series';

type RunInfo = Infer<typeof runInfo>;

interface VsCodeApi {
  postMessage(message: DashboardToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface ViewState {
  smoothing: number;
  logScale: boolean;
}

const vscode = acquireVsCodeApi();
const strings = readStrings();
const saved = vscode.getState() as Partial<ViewState> | undefined;
const view: ViewState = {
  smoothing: typeof saved?.smoothing === 'number' ? saved.smoothing : 0.9,
  logScale: saved?.logScale === true,
};

let run: RunInfo | undefined;
let records: HistoryRecord[] = [];
let drawScheduled = false;

function readStrings(): DashboardStrings {
  const raw = document.body.dataset.strings ?? '{}';
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  const result = {} as DashboardStrings;
  for (const key of dashboardStringKeys) result[key] = typeof parsed[key] === 'string' ? parsed[key] : key;
  return result;
}

function format(template: string, ...values: (string | number)[]): string {
  return template.replace(/\{(\d+)\}/g, (match, index: string) => String(values[Number(index)] ?? match));
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Page structure ----------------------------------------------------------------------------

const app = document.getElementById('app') ?? document.body;
const header = element('header');
const titleRow = element('div', 'title-row');
const title = element('h1', undefined, '');
const stateBadge = element('span', 'state');
const meta = element('span', 'meta');
titleRow.append(title, stateBadge, meta);
const message = element('p', 'message');
message.hidden = true;
const progress = document.createElement('vscode-progress-bar');
progress.id = 'progress';

const controls = element('div', 'controls');
const smoothingLabel = element('label', undefined, strings.smoothing);
const smoothingInput = element('input');
smoothingInput.type = 'range';
smoothingInput.min = '0';
smoothingInput.max = '0.99';
smoothingInput.step = '0.01';
smoothingInput.value = String(view.smoothing);
smoothingInput.id = 'smoothing';
smoothingLabel.htmlFor = 'smoothing';
const smoothingValue = element('span', undefined, view.smoothing.toFixed(2));
const logScale = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
logScale.setAttribute('label', strings.logScale);
logScale.id = 'log-scale';
logScale.checked = view.logScale;
const exportButton = document.createElement('vscode-button');
exportButton.id = 'export-csv';
exportButton.setAttribute('secondary', '');
exportButton.textContent = strings.exportCsv;
const cancelButton = document.createElement('vscode-button');
cancelButton.id = 'cancel';
cancelButton.textContent = strings.cancel;
controls.append(smoothingLabel, smoothingInput, smoothingValue, logScale, exportButton, cancelButton);
header.append(titleRow, message, progress, controls);

const empty = element('p', 'empty', strings.noRun);
const charts = element('section', 'charts');

function chartBox(id: string, heading: string, wide = false): HTMLElement {
  const box = element('div', wide ? 'chart wide' : 'chart');
  box.id = id;
  box.append(element('h2', undefined, heading));
  charts.append(box);
  return box;
}

const lossChart = new LineChart(chartBox('chart-loss', strings.loss, true), { emptyText: strings.noData });
const learningRateChart = new LineChart(chartBox('chart-learning-rate', strings.learningRate), { emptyText: strings.noData });
const throughputChart = new LineChart(chartBox('chart-tokens-per-second', strings.tokensPerSecond), { emptyText: strings.noData });
const memoryChart = new LineChart(chartBox('chart-memory', strings.memory), { emptyText: strings.noData, unit: 'bytes' });
const rowsChart = new LineChart(chartBox('chart-rows', strings.rowsTouched), { emptyText: strings.noData });
const shareChart = new LineChart(chartBox('chart-rows-share', strings.rowsTouchedShare), { emptyText: strings.noData, yRange: [0, 1] });
const heatmap = new Heatmap(chartBox('chart-row-hits', strings.rowHits, true), {
  empty: strings.noData,
  layer: (layer) => format(strings.layer, layer),
  caption: (step, maxHits) => format(strings.rowHitsCaption, step, maxHits),
});
app.append(header, empty, charts);

// Rendering ---------------------------------------------------------------------------------

const layerColors = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];

function render(): void {
  drawScheduled = false;
  const series = buildSeries(records, view.smoothing);
  const hasRun = run !== undefined;
  empty.hidden = hasRun;
  charts.hidden = !hasRun;
  header.hidden = !hasRun;
  if (run) {
    title.textContent = run.packName;
    stateBadge.textContent = strings[`state.${run.state}`];
    stateBadge.dataset.state = run.state;
    message.textContent = run.message ?? '';
    message.hidden = !run.message;
    const active = run.state === 'starting' || run.state === 'running' || run.state === 'cancelling';
    cancelButton.hidden = !active;
    cancelButton.toggleAttribute('disabled', run.state === 'cancelling');
    progress.hidden = !active;
  }

  const last = series.lastStep;
  if (last) {
    const parts = [format(strings.stepProgress, last.step, last.totalSteps), `${Math.round(last.tokensPerSecond)} tok/s`];
    const secondsLeft = estimateSecondsLeft(series.start, last);
    if (secondsLeft !== undefined && run?.state === 'running') parts.push(format(strings.timeLeft, formatSeconds(secondsLeft)));
    if (series.start) parts.push(series.start.backend);
    meta.textContent = parts.join(' · ');
    progress.setAttribute('max', String(last.totalSteps));
    progress.setAttribute('value', String(last.step));
  } else {
    meta.textContent = series.start ? series.start.backend : '';
    progress.removeAttribute('value');
  }

  const lossSeries: ChartSeries[] = [
    { label: strings.lossRaw, colorVar: '--vscode-charts-lines', points: series.loss, alpha: view.smoothing > 0 ? 0.8 : 1, width: 1 },
    { label: strings.lossSmoothed, colorVar: '--vscode-charts-blue', points: view.smoothing > 0 ? series.lossSmoothed : [], width: 2 },
    { label: strings.evalLoss, colorVar: '--vscode-charts-orange', points: series.evalLoss, style: 'points' },
    { label: strings.preservationLoss, colorVar: '--vscode-charts-purple', points: series.preservationLoss, width: 1.5 },
  ];
  lossChart.update(lossSeries, view.logScale);
  learningRateChart.update([{ label: strings.learningRate, colorVar: '--vscode-charts-green', points: series.learningRate }], view.logScale);
  throughputChart.update([{ label: strings.tokensPerSecond, colorVar: '--vscode-charts-yellow', points: series.tokensPerSecond }], view.logScale);
  memoryChart.update(
    [
      { label: strings.backendBytes, colorVar: '--vscode-charts-blue', points: series.backendBytes },
      { label: strings.rssBytes, colorVar: '--vscode-charts-green', points: series.rssBytes },
      { label: strings.gpuBytes, colorVar: '--vscode-charts-red', points: series.gpuUsedBytes },
    ],
    view.logScale,
  );
  const layerLabel = (index: number) => format(strings.layer, series.layers[index] ?? run?.layers?.[index] ?? index);
  rowsChart.update(
    series.rowsTouched.map((points, index) => ({ label: layerLabel(index), colorVar: layerColors[index % layerColors.length], points })),
    view.logScale,
  );
  shareChart.update(
    series.rowsTouchedShare.map((points, index) => ({ label: layerLabel(index), colorVar: layerColors[index % layerColors.length], points })),
    false,
  );
  heatmap.update(series.latestRowHits);
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function scheduleRender(): void {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(render);
}

function saveView(): void {
  vscode.setState(view);
}

// Events ------------------------------------------------------------------------------------

smoothingInput.addEventListener('input', () => {
  view.smoothing = Number(smoothingInput.value);
  smoothingValue.textContent = view.smoothing.toFixed(2);
  saveView();
  scheduleRender();
});
logScale.addEventListener('change', () => {
  view.logScale = logScale.checked;
  saveView();
  scheduleRender();
});
exportButton.addEventListener('click', () => {
  if (run) vscode.postMessage({ type: 'exportCsv', runId: run.id, smoothing: view.smoothing });
});
cancelButton.addEventListener('click', () => {
  if (run) vscode.postMessage({ type: 'cancel', runId: run.id });
});
new ResizeObserver(() => scheduleRender()).observe(charts);
// A theme switch changes the CSS variables on <body>; redraw the canvases with the new colors.
new MutationObserver(() => scheduleRender()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

function onHostMessage(messageValue: HostToDashboard): void {
  switch (messageValue.type) {
    case 'init':
      if (messageValue.protocolVersion !== DASHBOARD_PROTOCOL_VERSION) {
        vscode.postMessage({ type: 'error', message: `Host uses dashboard protocol ${messageValue.protocolVersion}, this page ${DASHBOARD_PROTOCOL_VERSION}.` });
        return;
      }
      run = messageValue.run;
      records = messageValue.records;
      break;
    case 'append':
      if (run?.id !== messageValue.runId) return;
      records.push(...messageValue.records);
      break;
    case 'state':
      if (run?.id === messageValue.run.id) run = messageValue.run;
      else {
        run = messageValue.run;
        records = [];
      }
      break;
    case 'notice':
      message.textContent = messageValue.message;
      message.hidden = false;
      return;
  }
  scheduleRender();
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const result = check(hostToDashboard, event.data);
  if (!result.ok) {
    vscode.postMessage({ type: 'error', message: `Dashboard ignored a message: ${result.error.message}` });
    return;
  }
  onHostMessage(result.value);
});
window.addEventListener('error', (event) => vscode.postMessage({ type: 'error', message: String(event.message) }));

render();
vscode.postMessage({ type: 'ready', protocolVersion: DASHBOARD_PROTOCOL_VERSION });

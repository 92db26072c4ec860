/**
 * Pack Statistics webview: per Engram layer, a table of training lookups per head, the
 * rank-frequency curves of row hits, the hash collisions of the pack's corpus, and the gate
 * histogram. The host sends the whole result; every message is validated before use.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './style.css';
import type { LayerStatisticsMessage, PackStatisticsResult } from '../../src/protocol/inspect';
import { hostToStatistics, STATISTICS_PROTOCOL_VERSION, statisticsStringKeys, type HostToStatistics, type StatisticsToHost } from '../../src/protocol/statistics';
import { check } from '../../src/protocol/validate';
import { element, format, readStrings, reportErrors, vscodeApi } from '../common/page';
import { drawHistogram, drawLogLog, type CurveSeries } from './charts';

const vscode = vscodeApi<StatisticsToHost>();
const strings = readStrings(statisticsStringKeys);
reportErrors((message) => vscode.postMessage({ type: 'error', message }));

/** Series color per n-gram order; orders beyond these reuse the last. */
const orderColors = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple'];

const app = document.getElementById('app') ?? document.body;
const header = element('header');
const title = element('h1', undefined, '');
const refreshButton = document.createElement('vscode-button');
refreshButton.id = 'refresh';
refreshButton.textContent = strings.refresh;
const saveButton = document.createElement('vscode-button');
saveButton.id = 'save-json';
saveButton.setAttribute('secondary', '');
saveButton.textContent = strings.saveJson;
const titleRow = element('div', 'title-row');
titleRow.append(title, refreshButton, saveButton);
const status = element('p', 'status');
status.id = 'status';
const sources = element('div', 'sources');
header.append(titleRow, status, sources);
const layersBox = element('div', 'layers');
layersBox.id = 'layers';
app.append(header, layersBox);

/** Redraws the canvases after a resize or a theme change. */
let redrawCharts: (() => void)[] = [];

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.001 && share > 0 ? 3 : 1)} %`;
}

function count(value: number): string {
  return Math.round(value).toLocaleString();
}

function table(headings: string[], rows: string[][], className: string): HTMLTableElement {
  const result = element('table', className);
  const head = element('tr');
  for (const heading of headings) head.append(element('th', undefined, heading));
  const thead = element('thead');
  thead.append(head);
  const tbody = element('tbody');
  for (const row of rows) {
    const line = element('tr');
    for (const cell of row) line.append(element('td', undefined, cell));
    tbody.append(line);
  }
  result.append(thead, tbody);
  return result;
}

function headTable(layer: LayerStatisticsMessage): HTMLTableElement {
  const rows = layer.heads.map((head) => [
    String(head.order),
    String(head.head),
    count(head.tableRows),
    count(head.lookups),
    count(head.uniqueRows),
    percent(head.coverage),
    head.topRows.length > 0 ? `${head.topRows[0][0]} (${count(head.topRows[0][1])})` : '—',
  ]);
  return table([strings.order, strings.head, strings.tableRows, strings.lookups, strings.uniqueRows, strings.coverage, strings.topRow], rows, 'heads');
}

function rankFrequencyChart(layer: LayerStatisticsMessage): HTMLElement {
  const box = element('div', 'chart');
  box.append(element('h3', undefined, strings.rankFrequency));
  const canvas = element('canvas', 'rank-frequency');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', strings.rankFrequency);
  const orders = [...new Set(layer.heads.map((head) => head.order))];
  const colorOf = (order: number) => orderColors[Math.min(orders.indexOf(order), orderColors.length - 1)];
  const series: CurveSeries[] = layer.heads.map((head) => ({ colorVar: colorOf(head.order), xs: head.rankFrequency.ranks, ys: head.rankFrequency.hits }));
  const legend = element('div', 'legend');
  for (const order of orders) {
    const item = element('span', 'legend-item');
    const swatch = element('span', 'swatch');
    swatch.style.background = `var(${colorOf(order)})`;
    item.append(swatch, format(strings.orderSeries, order));
    legend.append(item);
  }
  box.append(canvas, legend);
  redrawCharts.push(() => drawLogLog(canvas, series, strings.rank, strings.hits));
  return box;
}

function collisionTable(layer: LayerStatisticsMessage): HTMLElement | undefined {
  if (!layer.collisions) return undefined;
  const box = element('div', 'collisions');
  box.append(element('h3', undefined, strings.collisionsHeading));
  const rows: string[][] = [];
  for (const order of layer.collisions) {
    for (const head of order.heads) {
      rows.push([
        String(order.order),
        String(head.head),
        count(order.distinctNGrams),
        `${count(head.occupiedRows)} / ${count(head.tableRows)}`,
        `${count(head.collidingNGrams)} (${percent(order.distinctNGrams > 0 ? head.collidingNGrams / order.distinctNGrams : 0)})`,
        head.head === 0 ? count(order.collidingOnAllHeads) : '',
      ]);
    }
  }
  box.append(table([strings.order, strings.head, strings.distinctNGrams, strings.occupiedRows, strings.collidingNGrams, strings.collidingOnAllHeads], rows, 'collision-table'));
  return box;
}

function gateSection(layer: LayerStatisticsMessage): HTMLElement {
  const box = element('div', 'chart gate');
  box.append(element('h3', undefined, strings.gateHeading));
  const gate = layer.gate;
  if (!gate) {
    box.append(element('p', 'empty', strings.noGate));
    return box;
  }
  const canvas = element('canvas', 'gate-histogram');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', strings.gateHeading);
  const closed = element('p', 'closed-share', format(strings.closedShare, percent(gate.closedShare)));
  const summary = element('p', 'gate-summary', format(strings.gateSummary, gate.positions, gate.mean.toFixed(3), gate.p50.toFixed(3), gate.p5.toFixed(3), gate.p95.toFixed(3)));
  box.append(canvas, closed, summary);
  redrawCharts.push(() => drawHistogram(canvas, gate.histogram.counts, '--vscode-charts-blue', strings.gateHeading, strings.positions));
  return box;
}

function showSources(result: PackStatisticsResult, textSource: string | null): void {
  const lines: string[] = [];
  const tokens = result.statistics.text?.tokens ?? 0;
  if (result.gateSource === 'text') lines.push(format(strings.gateSourceText, tokens, textSource ?? ''));
  else if (result.gateSource === 'corpus') lines.push(format(strings.gateSourceCorpus, tokens));
  else lines.push(strings.gateSourceNone);
  const corpus = result.statistics.corpus;
  lines.push(corpus ? format(strings.corpusSummary, count(corpus.documents), count(corpus.tokens)) : strings.corpusNone);
  for (const file of result.corpusFiles) {
    if (file.state === 'missing') lines.push(format(strings.corpusFileMissing, file.path));
    if (file.state === 'changed') lines.push(format(strings.corpusFileChanged, file.path));
  }
  sources.replaceChildren(...lines.map((line) => element('p', undefined, line)));
}

function showStatistics(result: PackStatisticsResult, textSource: string | null): void {
  const statistics = result.statistics;
  title.textContent = format(strings.title, statistics.pack);
  status.textContent = '';
  showSources(result, textSource);
  redrawCharts = [];
  const sections = statistics.layers.map((layer) => {
    const section = element('section', 'layer');
    section.dataset.layer = String(layer.layer);
    section.append(element('h2', undefined, format(strings.layer, layer.layer)));
    section.append(element('h3', undefined, strings.tableHeading), headTable(layer));
    const charts = element('div', 'charts');
    charts.append(rankFrequencyChart(layer), gateSection(layer));
    section.append(charts);
    const collisions = collisionTable(layer);
    if (collisions) section.append(collisions);
    return section;
  });
  layersBox.replaceChildren(...sections);
  for (const draw of redrawCharts) draw();
}

function onMessage(message: HostToStatistics): void {
  switch (message.type) {
    case 'loading':
      title.textContent = format(strings.title, message.pack);
      status.textContent = format(strings.loading, message.pack);
      status.classList.remove('error');
      break;
    case 'statistics':
      showStatistics(message.result, message.textSource);
      break;
    case 'failed':
      // Statistics of an earlier pack or text would read as the current ones, so they go.
      status.textContent = message.message;
      status.classList.add('error');
      sources.replaceChildren();
      layersBox.replaceChildren();
      redrawCharts = [];
      break;
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const result = check(hostToStatistics, event.data);
  if (!result.ok) {
    vscode.postMessage({ type: 'error', message: `Invalid message from the host: ${result.error.message}`.slice(0, 2_000) });
    return;
  }
  onMessage(result.value);
});
refreshButton.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
saveButton.addEventListener('click', () => vscode.postMessage({ type: 'saveJson' }));

let resizeScheduled = false;
new ResizeObserver(() => {
  if (resizeScheduled) return;
  resizeScheduled = true;
  requestAnimationFrame(() => {
    resizeScheduled = false;
    for (const draw of redrawCharts) draw();
  });
}).observe(layersBox);
// VS Code changes the theme by rewriting the body's class and style.
new MutationObserver(() => {
  for (const draw of redrawCharts) draw();
}).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });

status.textContent = format(strings.loading, '');
vscode.postMessage({ type: 'ready', protocolVersion: STATISTICS_PROTOCOL_VERSION });

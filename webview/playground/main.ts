/**
 * Playground webview: a prompt, the sampling settings, and two columns that fill with the
 * completion with the attached pack and with the base model as the host streams them. A probe
 * file's results show as a table with a pass/fail column per side. Every message is validated.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './style.css';
import {
  PLAYGROUND_PROTOCOL_VERSION,
  defaultSampling,
  findSamplingProblems,
  hostToPlayground,
  playgroundStringKeys,
  samplingLimits,
  samplingSettings,
  type CompletionSide,
  type HostToPlayground,
  type PlaygroundToHost,
  type ProbeRow,
  type SamplingField,
  type SamplingSettings,
} from '../../src/protocol/playground';
import { check } from '../../src/protocol/validate';
import { element, format, readStrings, reportErrors, vscodeApi } from '../common/page';

const vscode = vscodeApi<PlaygroundToHost>();
const strings = readStrings(playgroundStringKeys);
reportErrors((message) => vscode.postMessage({ type: 'error', message }));

interface ViewState {
  prompt: string;
  sampling: SamplingSettings;
}

// Page structure ----------------------------------------------------------------------------

const app = document.getElementById('app') ?? document.body;
const runtimeLine = element('p', 'runtime');
runtimeLine.id = 'runtime';

const promptLabel = element('label', undefined, strings.prompt);
promptLabel.htmlFor = 'prompt';
const promptInput = element('textarea');
promptInput.id = 'prompt';
promptInput.rows = 3;
promptInput.maxLength = samplingLimits.promptLength;
promptInput.placeholder = strings.promptPlaceholder;

function numberField(id: string, limits: { min: number; max: number }, step: string): HTMLInputElement {
  const input = element('input');
  input.type = 'number';
  input.id = id;
  input.min = String(limits.min);
  input.max = String(limits.max);
  input.step = step;
  return input;
}
const temperatureInput = numberField('temperature', samplingLimits.temperature, '0.1');
const topPInput = numberField('top-p', samplingLimits.topP, '0.05');
const maxTokensInput = numberField('max-tokens', samplingLimits.maxTokens, '1');

const generateButton = document.createElement('vscode-button');
generateButton.id = 'generate';
generateButton.textContent = strings.generate;
const probesButton = document.createElement('vscode-button');
probesButton.id = 'run-probes';
probesButton.setAttribute('secondary', '');
probesButton.textContent = strings.runProbes;

const controls = element('div', 'controls');
for (const [input, label] of [
  [temperatureInput, strings.temperature],
  [topPInput, strings.topP],
  [maxTokensInput, strings.maxTokens],
] as const) {
  const field = element('label', 'field', label);
  field.append(input);
  controls.append(field);
}
controls.append(generateButton, probesButton);
const validationLine = element('p', 'validation');
validationLine.id = 'validation';
validationLine.setAttribute('role', 'alert');

function completionColumn(side: CompletionSide): { box: HTMLElement; heading: HTMLElement; output: HTMLElement; status: HTMLElement } {
  const box = element('section', 'completion');
  box.id = `completion-${side}`;
  const heading = element('h2');
  const output = element('pre', 'output');
  output.setAttribute('aria-live', 'polite');
  const status = element('p', 'status');
  box.append(heading, output, status);
  return { box, heading, output, status };
}
const columns = { pack: completionColumn('pack'), base: completionColumn('base') };
columns.base.heading.textContent = strings.withoutPack;
const comparison = element('p', 'comparison');
comparison.id = 'comparison';
const completions = element('div', 'completions');
completions.append(columns.pack.box, columns.base.box);

const probesStatus = element('p', 'probes-status');
probesStatus.id = 'probes-status';
const probesTable = element('table', 'probes');
probesTable.id = 'probes';

app.append(runtimeLine, promptLabel, promptInput, controls, validationLine, completions, comparison, probesStatus, probesTable);

// State -------------------------------------------------------------------------------------

let packName: string | null = null;
let nextRequestId = 1;
let activeRequest: number | undefined;
const finished: Partial<Record<CompletionSide, string>> = {};

function showSampling(sampling: SamplingSettings): void {
  temperatureInput.value = String(sampling.temperature);
  topPInput.value = String(sampling.topP);
  maxTokensInput.value = String(sampling.maxTokens);
}

const samplingInputs: Record<SamplingField, HTMLInputElement> = { temperature: temperatureInput, topP: topPInput, maxTokens: maxTokensInput };
const samplingLabels: Record<SamplingField, string> = { temperature: strings.temperature, topP: strings.topP, maxTokens: strings.maxTokens };

/** Reads the settings from the inputs, or returns undefined with the error messages of the inputs out of range. */
function readSampling(): { sampling: SamplingSettings } | { errors: string[] } {
  const problems = findSamplingProblems({ temperature: temperatureInput.value, topP: topPInput.value, maxTokens: maxTokensInput.value });
  for (const [field, input] of Object.entries(samplingInputs)) input.classList.toggle('invalid', problems.some((problem) => problem.field === field));
  if (problems.length > 0) {
    return { errors: problems.map((problem) => format(problem.integer ? strings.invalidInteger : strings.invalidNumber, samplingLabels[problem.field], problem.min, problem.max)) };
  }
  const result = check(samplingSettings, {
    temperature: Number(temperatureInput.value),
    topP: Number(topPInput.value),
    maxTokens: Number(maxTokensInput.value),
  });
  return result.ok ? { sampling: result.value } : { errors: [result.error.message] };
}

function saveState(): void {
  const read = readSampling();
  const state: ViewState = { prompt: promptInput.value, sampling: 'sampling' in read ? read.sampling : defaultSampling };
  vscode.setState(state);
}

/** Empties both columns, so no completion shows under the name of a pack that did not write it. */
function clearCompletions(): void {
  for (const column of Object.values(columns)) {
    column.output.textContent = '';
    column.status.textContent = '';
    delete column.box.dataset.state;
  }
  comparison.textContent = '';
  delete finished.pack;
  delete finished.base;
}

function showRuntime(pack: string | null, model: string | null): void {
  if (pack !== packName && activeRequest === undefined) clearCompletions();
  packName = pack;
  runtimeLine.textContent = pack ? format(strings.packLabel, pack, model ?? '') : strings.noPack;
  runtimeLine.classList.toggle('warning', pack === null);
  columns.pack.heading.textContent = format(strings.withPack, pack ?? '—');
}

function setBusy(busy: boolean): void {
  generateButton.toggleAttribute('disabled', busy);
}

function startCompletion(): void {
  if (activeRequest !== undefined) return;
  const read = readSampling();
  const prompt = promptInput.value;
  const emptyPrompt = prompt.trim().length === 0;
  promptInput.classList.toggle('invalid', emptyPrompt);
  const errors = [...(emptyPrompt ? [strings.emptyPrompt] : []), ...('errors' in read ? read.errors : [])];
  validationLine.textContent = errors.join(' ');
  if (!('sampling' in read) || emptyPrompt) return;
  const sampling = read.sampling;
  saveState();
  activeRequest = nextRequestId++;
  delete finished.pack;
  delete finished.base;
  for (const column of Object.values(columns)) {
    column.output.textContent = '';
    column.status.textContent = strings.generating;
    column.box.dataset.state = 'running';
  }
  comparison.textContent = '';
  setBusy(true);
  vscode.postMessage({ type: 'generate', requestId: activeRequest, prompt, sampling });
}

function onDone(side: CompletionSide, text: string): void {
  finished[side] = text;
  const column = columns[side];
  column.output.textContent = text;
  column.status.textContent = '';
  column.box.dataset.state = 'done';
  if (finished.pack !== undefined && finished.base !== undefined) {
    comparison.textContent = finished.pack === finished.base ? strings.same : strings.different;
    comparison.dataset.result = finished.pack === finished.base ? 'same' : 'different';
    activeRequest = undefined;
    setBusy(false);
  }
}

function onFailed(message: string): void {
  for (const column of Object.values(columns)) {
    if (column.box.dataset.state === 'running') {
      column.status.textContent = format(strings.failed, message);
      column.box.dataset.state = 'failed';
    }
  }
  activeRequest = undefined;
  setBusy(false);
}

function showProbes(file: string, rows: ProbeRow[]): void {
  const passedWithPack = rows.filter((row) => row.withPack.passed).length;
  const passedBase = rows.filter((row) => row.withoutPack.passed).length;
  probesStatus.textContent = format(strings.probesSummary, file, passedWithPack, rows.length, passedBase, rows.length);
  const head = element('tr');
  for (const label of [strings.probePrompt, strings.probeAnswer, strings.probeRelation, format(strings.withPack, packName ?? '—'), strings.withoutPack]) {
    head.append(element('th', undefined, label));
  }
  const body = rows.map((row) => {
    const line = element('tr');
    line.append(element('td', undefined, row.prompt), element('td', undefined, row.answer), element('td', undefined, row.relation));
    for (const score of [row.withPack, row.withoutPack]) {
      const cell = element('td', score.passed ? 'pass' : 'fail', `${score.passed ? strings.passed : strings.notPassed} · ${score.predicted}`);
      line.append(cell);
    }
    return line;
  });
  const thead = element('thead');
  thead.append(head);
  const tbody = element('tbody');
  tbody.append(...body);
  probesTable.replaceChildren(thead, tbody);
  probesButton.removeAttribute('disabled');
}

// Messages ----------------------------------------------------------------------------------

function onMessage(message: HostToPlayground): void {
  switch (message.type) {
    case 'init': {
      showRuntime(message.pack, message.model);
      const saved = vscode.getState() as Partial<ViewState> | undefined;
      const savedSampling = check(samplingSettings, saved?.sampling);
      showSampling(savedSampling.ok ? savedSampling.value : message.sampling);
      promptInput.value = typeof saved?.prompt === 'string' ? saved.prompt : message.prompt;
      break;
    }
    case 'runtime':
      showRuntime(message.pack, message.model);
      break;
    case 'partial':
      if (message.requestId === activeRequest && finished[message.side] === undefined) columns[message.side].output.textContent = message.text;
      break;
    case 'done':
      if (message.requestId === activeRequest) onDone(message.side, message.text);
      break;
    case 'failed':
      if (message.requestId === activeRequest) onFailed(message.message);
      break;
    case 'probesStarted':
      probesStatus.textContent = format(strings.probesRunning, message.file);
      probesTable.replaceChildren();
      probesButton.toggleAttribute('disabled', true);
      break;
    case 'probes':
      showProbes(message.file, message.rows);
      break;
    case 'probesFailed':
      probesStatus.textContent = format(strings.probesFailed, message.message);
      probesButton.removeAttribute('disabled');
      break;
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const result = check(hostToPlayground, event.data);
  if (!result.ok) {
    vscode.postMessage({ type: 'error', message: `Invalid message from the host: ${result.error.message}`.slice(0, 2_000) });
    return;
  }
  onMessage(result.value);
});

generateButton.addEventListener('click', startCompletion);
probesButton.addEventListener('click', () => vscode.postMessage({ type: 'runProbes' }));
promptInput.addEventListener('keydown', (event) => {
  // Ctrl+Enter (Cmd+Enter on macOS) completes, as in chat inputs; plain Enter adds a line.
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    startCompletion();
  }
});
for (const input of [promptInput, temperatureInput, topPInput, maxTokensInput]) input.addEventListener('change', saveState);

showSampling(defaultSampling);
showRuntime(null, null);
vscode.postMessage({ type: 'ready', protocolVersion: PLAYGROUND_PROTOCOL_VERSION });

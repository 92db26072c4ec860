import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildStatusBarView, formatLoss } from '../src/extension/statusBarText';
import type { TrainingProgress } from '../src/extension/training/trainingController';
import type { RuntimeState } from '../src/extension/worker/runtimeService';
import type { PackMetadata } from '../src/protocol/trainEvents';

const facts = { name: 'facts' } as PackMetadata;
const attachedState: RuntimeState = { modelDir: '/models/stories260K-hf', backend: 'wasm', attached: facts };
const running: TrainingProgress = { packName: 'capitals', step: 120, totalSteps: 600, loss: 1.2345, cancelling: false };

test('idle bar without pack', () => {
  const view = buildStatusBarView({}, undefined);
  assert.equal(view.text, '$(database) no pack');
  assert.equal(view.command, 'engram.switchPack');
  assert.equal(view.tooltip, 'No pack attached\nClick to attach, switch or detach a pack.');
});

test('idle bar shows pack and backend', () => {
  const view = buildStatusBarView(attachedState, undefined);
  assert.equal(view.text, '$(database) facts (wasm)');
  assert.equal(view.command, 'engram.switchPack');
  assert.equal(view.tooltip, 'Attached pack: facts\nModel: /models/stories260K-hf\nBackend: wasm\nClick to attach, switch or detach a pack.');
});

test('idle bar with model but no pack', () => {
  const view = buildStatusBarView({ modelDir: '/m', backend: 'cpu' }, undefined);
  assert.equal(view.text, '$(database) no pack (cpu)');
});

test('training bar shows step and loss', () => {
  const view = buildStatusBarView(attachedState, running);
  assert.equal(view.text, '$(sync~spin) Engram 120/600 · loss 1.23');
  assert.equal(view.command, 'engram.showDashboard');
});

test('training tooltip lists run and pack', () => {
  const lines = buildStatusBarView(attachedState, running).tooltip.split('\n');
  assert.equal(lines[0], 'Training capitals: step 120 of 600, loss 1.23');
  assert.ok(lines.includes('Attached pack: facts'), lines.join(' | '));
  assert.equal(lines.at(-1), 'Click to show the training dashboard.');
});

test('training bar before first step', () => {
  const view = buildStatusBarView({}, { packName: 'capitals', cancelling: false });
  assert.equal(view.text, '$(sync~spin) Engram · starting capitals');
  assert.equal(view.tooltip.split('\n')[0], 'Training capitals: starting');
  assert.equal(view.command, 'engram.showDashboard');
});

test('training bar while cancelling', () => {
  const view = buildStatusBarView({}, { ...running, cancelling: true });
  assert.equal(view.text, '$(sync~spin) Engram 120/600 · cancelling');
});

test('training bar uses given strings', () => {
  const view = buildStatusBarView({}, running, {
    noPack: 'kein Paket',
    trainingStep: (step, total, loss) => `Engram ${step} von ${total} · Verlust ${loss}`,
    trainingStarting: (name) => `Engram · startet ${name}`,
    trainingCancelling: (step, total) => `Engram ${step} von ${total} · bricht ab`,
    attachedPack: (name) => `Paket: ${name}`,
    noPackAttached: 'Kein Paket',
    model: (dir) => `Modell: ${dir}`,
    backend: (name) => `Backend: ${name}`,
    trainingTooltip: (name, step, total, loss) => `${name}: ${step}/${total}, ${loss}`,
    trainingTooltipStarting: (name) => `${name}: startet`,
    clickToSwitch: 'Klicken zum Wechseln.',
    clickToShowDashboard: 'Klicken für das Dashboard.',
  });
  assert.equal(view.text, '$(sync~spin) Engram 120 von 600 · Verlust 1.23');
});

test('loss format keeps three digits', () => {
  const cases: [number, string][] = [
    [5.3421, '5.34'],
    [1.2345, '1.23'],
    [0.012345, '0.0123'],
    [12.345, '12.3'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ];
  for (const [loss, expected] of cases) assert.equal(formatLoss(loss), expected, `formatLoss(${loss})`);
});

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bucketOf, groupByBucket, hitScale, tokenStrength } from '../src/extension/inspect/hitScale';
import { codeSpan, escapeMarkdown, formatTemplate, hoverMarkdown, type HoverStrings } from '../src/extension/inspect/hoverMarkdown';
import { defaultInspectMaxTokens, inspectedSlice, readHitMetric, readInspectMaxTokens } from '../src/extension/inspect/inspectSettings';
import { packProblem } from '../src/extension/inspect/packProblem';
import { webviewPage } from '../src/extension/webviewPage';
import type { InspectedTokenMessage, TokenInspectionMessage } from '../src/protocol/inspect';
import { hostToPlayground, playgroundToHost, samplingLimits } from '../src/protocol/playground';
import { hostToStatistics, statisticsToHost } from '../src/protocol/statistics';
import type { PackMetadata } from '../src/protocol/trainEvents';
import { check } from '../src/protocol/validate';
import { workerMethods, type WorkerReply } from '../src/protocol/worker';
import { EngineAdapter } from '../src/worker/engineAdapter';
import { WorkerServer, type OutgoingMessage } from '../src/worker/server';
import { smallTrainOptions, tempDir, trainQuietly } from './helpers/engine';
import { countryFactsDir, storiesModelDir } from './helpers/paths';

function layer(gate: number, contributionNorm: number, layerIndex = 1): InspectedTokenMessage['layers'][number] {
  return { layer: layerIndex, gate, contributionNorm, heads: [] };
}

function token(overrides: Partial<InspectedTokenMessage> = {}): InspectedTokenMessage {
  return {
    position: 1,
    range: { start: 0, end: 3 },
    id: 450,
    token: '▁The',
    canonicalId: 233,
    ngrams: [
      { order: 2, canonicalIds: [1, 233], text: '<s> The', padPositions: 0 },
      { order: 3, canonicalIds: [2, 1, 233], text: '<s> The', padPositions: 1 },
    ],
    layers: [
      {
        layer: 1,
        gate: 0.916,
        contributionNorm: 1.858,
        heads: [
          { order: 2, head: 0, row: 3025, trainingHits: 1427 },
          { order: 2, head: 1, row: 234, trainingHits: 0 },
          { order: 3, head: 0, row: 15346, trainingHits: 12 },
          { order: 3, head: 1, row: 77, trainingHits: 5 },
        ],
      },
      {
        layer: 3,
        gate: 0.2,
        contributionNorm: 0.5,
        heads: [
          { order: 2, head: 0, row: 17715, trainingHits: 8 },
          { order: 2, head: 1, row: 13143, trainingHits: 9 },
          { order: 3, head: 0, row: 12542, trainingHits: 1 },
          { order: 3, head: 1, row: 11431, trainingHits: 2 },
        ],
      },
    ],
    withPack: [
      { id: 1, token: '▁c', text: ' c', probability: 0.622 },
      { id: 2, token: '|', text: '|', probability: 0.1 },
      { id: 3, token: '▁a', text: ' a', probability: 0.05 },
    ],
    withoutPack: [
      { id: 4, token: 're', text: 're', probability: 0.346 },
      { id: 5, token: '▁b', text: ' b', probability: 0.2 },
      { id: 6, token: '`', text: '`', probability: 0.01 },
    ],
    next: { id: 1, probabilityWithPack: 0.622, probabilityWithoutPack: 0.01 },
    ...overrides,
  };
}

const englishHover: HoverStrings = {
  title: 'Token {0} · id {1} · canonical id {2}',
  ngram: '{0}-gram {1} · canonical ids {2}',
  ngramPadded: '({0} padding positions)',
  colorGate: 'Color: gate {0}, bucket {1} of {2} ({3} to {4}).',
  colorContribution: 'Color: norm {0}, bucket {1} of {2} ({3} to {4}).',
  colorNoneGate: 'No color: gate {0}.',
  colorNoneContribution: 'No color: norm {0}.',
  layer: 'Layer',
  gate: 'Gate',
  contributionNorm: '‖y‖',
  order: 'n',
  headColumn: 'Head',
  layerColumn: 'Layer {0}',
  rowsCaption: 'Cells: row (training hits).',
  predictionsHeading: 'Next-token predictions',
  rank: '#',
  withPack: 'with pack',
  withoutPack: 'base model',
  probability: 'p',
  actualNext: 'Actual next token {0}: {1} with the pack, {2} with the base model.',
};

describe('hit scale', () => {
  test('gate below 0.01 has no bucket', () => {
    assert.equal(bucketOf(0.009, { metric: 'gate', maxValue: 1 }), undefined);
  });

  test('gate bucket bounds', () => {
    const scale = { metric: 'gate' as const, maxValue: 1 };
    assert.equal(bucketOf(0.01, scale), 0);
    assert.equal(bucketOf(0.249, scale), 0);
    assert.equal(bucketOf(0.25, scale), 1);
    assert.equal(bucketOf(0.6, scale), 2);
    assert.equal(bucketOf(0.75, scale), 3);
    assert.equal(bucketOf(1, scale), 3);
  });

  test('contribution relative to maximum', () => {
    const tokens = [{ layers: [layer(0.5, 4)] }, { layers: [layer(0.5, 1), layer(0.5, 2, 3)] }, { layers: [layer(0.5, 0.1)] }];
    const scale = hitScale(tokens, 'contribution');
    assert.equal(scale.maxValue, 4);
    assert.equal(bucketOf(4, scale), 3);
    assert.equal(bucketOf(2, scale), 2);
    assert.equal(bucketOf(1, scale), 1);
    assert.equal(bucketOf(0.1, scale), undefined);
  });

  test('zero maximum colors nothing', () => {
    assert.equal(bucketOf(0, { metric: 'contribution', maxValue: 0 }), undefined);
  });

  test('strength is maximum over layers', () => {
    const value = { layers: [layer(0.2, 3), layer(0.9, 1, 3)] };
    assert.equal(tokenStrength(value, 'gate'), 0.9);
    assert.equal(tokenStrength(value, 'contribution'), 3);
  });

  test('grouping skips tokens without text', () => {
    const tokens = [
      { range: null, layers: [layer(0.9, 1)] },
      { range: { start: 0, end: 0 }, layers: [layer(0.9, 1)] },
      { range: { start: 0, end: 3 }, layers: [layer(0.9, 1)] },
      { range: { start: 3, end: 5 }, layers: [layer(0.3, 1)] },
      { range: { start: 5, end: 6 }, layers: [layer(0.001, 1)] },
    ];
    assert.deepEqual(groupByBucket(tokens, { metric: 'gate', maxValue: 1 }), [[], [3], [], [2]]);
  });
});

describe('hover markdown', () => {
  const markdown = hoverMarkdown(token(), { metric: 'gate', maxValue: 1 }, englishHover, ' c');
  /** The Markdown with backslash escapes removed, except `\|`, so that the checks read like the rendered text. */
  const plain = markdown.replace(/\\([^|])/g, '$1');

  test('hover shows token and ids', () => {
    assert.match(markdown, /Token `"▁The"` · id 450 · canonical id 233/);
  });

  test('hover shows both n-grams', () => {
    assert.match(plain, /2-gram `"<s> The"` · canonical ids 1, 233/);
    assert.match(plain, /3-gram `"<s> The"` · canonical ids 2, 1, 233 \(1 padding positions\)/);
  });

  test('hover lists gate per layer', () => {
    assert.match(markdown, /\| 1 \| 0\.916 \| 1\.86 \|/);
    assert.match(markdown, /\| 3 \| 0\.200 \| 0\.5 \|/);
  });

  test('hover lists rows per head', () => {
    assert.match(markdown, /\| n \| Head \| Layer 1 \| Layer 3 \|/);
    assert.match(markdown, /\| 2 \| 0 \| 3025 \(1427\) \| 17715 \(8\) \|/);
    assert.match(markdown, /\| 2 \| 1 \| 234 \(0\) \| 13143 \(9\) \|/);
    assert.match(markdown, /\| 3 \| 1 \| 77 \(5\) \| 11431 \(2\) \|/);
  });

  test('hover header names the bucket', () => {
    assert.match(plain, /Color: gate 0\.916, bucket 4 of 4 \(0\.75 to 1\)\./);
  });

  test('hover lists predictions of both runs', () => {
    assert.match(markdown, /\| 1 \| `" c"` \| 62\.2 % \| `"re"` \| 34\.6 % \|/);
    assert.match(markdown, /\| 3 \| `" a"` \| 5\.0 % \| ``"`"`` \| 1\.0 % \|/);
  });

  test('hover escapes pipes in cells', () => {
    assert.match(markdown, /\| 2 \| `"\\\|"` \| 10\.0 % \|/);
  });

  test('hover names the actual next token', () => {
    assert.match(plain, /Actual next token `" c"`: 62\.2 % with the pack, 1\.0 % with the base model\./);
  });

  test('hover without next token omits it', () => {
    assert.doesNotMatch(hoverMarkdown(token({ next: null }), { metric: 'gate', maxValue: 1 }, englishHover), /Actual next token/);
  });

  test('weak token says no color', () => {
    const weak = token({ layers: [layer(0.005, 0.1)] });
    assert.match(hoverMarkdown(weak, { metric: 'gate', maxValue: 1 }, englishHover), /No color: gate 0\.005\\\./);
  });
});

describe('markdown helpers', () => {
  test('code span outlasts backtick runs', () => {
    assert.equal(codeSpan('a``b'), '```"a``b"```');
  });

  test('code span shows line breaks', () => {
    assert.equal(codeSpan('\n'), '`"\\n"`');
  });

  test('escape covers markdown syntax', () => {
    assert.equal(escapeMarkdown('*a* [b](c) <d>'), '\\*a\\* \\[b\\]\\(c\\) \\<d\\>');
  });

  test('template keeps unknown placeholders', () => {
    assert.equal(formatTemplate('{0} and {1}', 'a'), 'a and {1}');
  });
});

describe('inspect settings', () => {
  test('max tokens defaults when invalid', () => {
    assert.equal(readInspectMaxTokens(() => undefined), defaultInspectMaxTokens);
    assert.equal(readInspectMaxTokens(() => 1), defaultInspectMaxTokens);
    assert.equal(readInspectMaxTokens(() => 2.5), defaultInspectMaxTokens);
    assert.equal(readInspectMaxTokens(() => '64'), defaultInspectMaxTokens);
  });

  test('max tokens reads the setting', () => {
    assert.equal(readInspectMaxTokens((key) => (key === 'inspect.maxTokens' ? 64 : undefined)), 64);
  });

  test('metric falls back to contribution', () => {
    assert.equal(readHitMetric('gate'), 'gate');
    assert.equal(readHitMetric('loudness'), 'contribution');
    assert.equal(readHitMetric(undefined), 'contribution');
  });

  test('slice uses the selection', () => {
    assert.deepEqual(inspectedSlice('one two three', { start: 4, end: 7 }, 10), { text: 'two', offset: 4, cut: false });
  });

  test('slice of empty selection is whole text', () => {
    assert.deepEqual(inspectedSlice('one two', { start: 3, end: 3 }, 10), { text: 'one two', offset: 0, cut: false });
  });

  test('slice cuts long text', () => {
    const slice = inspectedSlice('x'.repeat(100), undefined, 2);
    assert.equal(slice.text.length, 32);
    assert.equal(slice.cut, true);
  });

  test('slice keeps surrogate pairs whole', () => {
    const text = `${'x'.repeat(31)}😀tail`;
    assert.equal(inspectedSlice(text, undefined, 2).text, 'x'.repeat(31));
  });
});

describe('pack problem', () => {
  const attached = { name: 'facts' } as PackMetadata;

  test('attached to selected model is fine', () => {
    assert.equal(packProblem({ attached, modelDir: '/m/a' }, '/m/a/', []), undefined);
  });

  test('attached to other model', () => {
    assert.deepEqual(packProblem({ attached, modelDir: '/m/a' }, '/m/b', []), { kind: 'other-model', packName: 'facts', loadedModelDir: '/m/a', selectedModelDir: '/m/b' });
  });

  test('no model selected', () => {
    assert.deepEqual(packProblem({}, undefined, ['attachable']), { kind: 'no-model' });
  });

  test('no pack attached', () => {
    assert.deepEqual(packProblem({}, '/m/a', ['attachable', 'mismatch']), { kind: 'no-pack' });
    assert.deepEqual(packProblem({}, '/m/a', []), { kind: 'no-pack' });
  });

  test('only packs for other models', () => {
    assert.deepEqual(packProblem({}, '/m/a', ['mismatch', 'invalid', 'mismatch']), { kind: 'no-pack-for-model', modelDir: '/m/a' });
  });
});

describe('webview messages', () => {
  const sampling = { temperature: 0, topP: 1, maxTokens: 32 };

  test('generate request passes', () => {
    const result = check(playgroundToHost, { type: 'generate', requestId: 1, prompt: 'The capital of Peru is', sampling });
    assert.equal(result.ok, true);
  });

  test('temperature above limit rejected', () => {
    const result = check(playgroundToHost, { type: 'generate', requestId: 1, prompt: 'p', sampling: { ...sampling, temperature: 3 } });
    assert.equal(result.ok, false);
    assert.equal(result.ok ? '' : result.error.path, '$.sampling.temperature');
  });

  test('fractional max tokens rejected', () => {
    const result = check(playgroundToHost, { type: 'generate', requestId: 1, prompt: 'p', sampling: { ...sampling, maxTokens: 2.5 } });
    assert.equal(result.ok, false);
  });

  test('zero max tokens rejected', () => {
    const result = check(playgroundToHost, { type: 'generate', requestId: 1, prompt: 'p', sampling: { ...sampling, maxTokens: 0 } });
    assert.equal(result.ok, false);
  });

  test('overlong prompt rejected', () => {
    const prompt = 'x'.repeat(samplingLimits.promptLength + 1);
    const result = check(playgroundToHost, { type: 'generate', requestId: 1, prompt, sampling });
    assert.equal(result.ok, false);
    assert.equal(result.ok ? '' : result.error.path, '$.prompt');
  });

  test('unknown playground message rejected', () => {
    assert.equal(check(playgroundToHost, { type: 'runCode', code: 'x' }).ok, false);
  });

  test('partial with unknown side rejected', () => {
    assert.equal(check(hostToPlayground, { type: 'partial', requestId: 1, side: 'both', text: 'x' }).ok, false);
  });

  test('statistics requests pass', () => {
    assert.equal(check(statisticsToHost, { type: 'refresh' }).ok, true);
    assert.equal(check(statisticsToHost, { type: 'saveJson' }).ok, true);
  });

  test('statistics failure passes', () => {
    assert.equal(check(hostToStatistics, { type: 'failed', message: 'No pack' }).ok, true);
  });

  test('webview page has nonce CSP', () => {
    const html = webviewPage({ cspSource: 'vscode-resource:', scriptUri: 's.js', styleUri: 's.css', strings: { a: '"<b>' }, title: 'T', nonce: 'abc' });
    assert.match(html, /script-src 'nonce-abc'/);
    assert.match(html, /<script nonce="abc" src="s.js">/);
    assert.doesNotMatch(html, /unsafe-inline/);
    assert.match(html, /data-strings="\{&quot;a&quot;:&quot;\\&quot;&lt;b&gt;&quot;\}"/);
  });
});

describe('worker inspection', () => {
  const temp = tempDir('inspect-worker');
  const packDir = join(temp.path, 'facts.engram');
  const probeFile = join(temp.path, 'probes.tsv');
  const sent: OutgoingMessage[] = [];
  const engine = new EngineAdapter();
  const server = new WorkerServer({ engine, send: (message) => sent.push(message), exit: () => undefined });
  let nextId = 1;

  /** Sends one request through the real server and returns its validated result. */
  async function call<M extends keyof typeof workerMethods>(method: M, params: unknown): Promise<ReturnType<(typeof workerMethods)[M]['result']>> {
    const id = nextId++;
    await server.handle({ kind: 'request', id, method, params });
    const reply = sent.find((message): message is WorkerReply => message.kind === 'reply' && message.id === id);
    assert.ok(reply, `no reply to ${method}`);
    if (!reply.ok) throw new Error(`${method} failed: ${reply.error.code} ${reply.error.message}`);
    return workerMethods[method].result(reply.result) as ReturnType<(typeof workerMethods)[M]['result']>;
  }

  before(async () => {
    await trainQuietly(smallTrainOptions(packDir));
    writeFileSync(probeFile, 'prompt\tanswer\trelation\nThe capital of Peru is\tLima\tcapital\nPeru is a country in\tSouth America\tcontinent\n');
    await call('load', { modelDir: storiesModelDir, backend: 'auto' });
    await call('attach', { packDir });
  });

  after(() => {
    engine.dispose();
    temp.remove();
  });

  test('inspect result validates', async () => {
    const text = 'The capital of Peru is Lima.';
    const result: TokenInspectionMessage = await call('inspect', { text, maxTokens: 64 });
    assert.equal(result.pack, 'facts');
    assert.equal(result.truncated, false);
    assert.equal(result.tokens[0].range, null);
    assert.equal(result.tokens[1].range?.start, 0);
    assert.equal(result.tokens.at(-1)?.range?.end, text.length);
    assert.equal(result.tokens[1].withPack.length, 3);
    assert.deepEqual(result.tokens[1].ngrams.map((ngram) => ngram.order), [2, 3]);
  });

  test('inspect stops at max tokens', async () => {
    const result: TokenInspectionMessage = await call('inspect', { text: 'The capital of Peru is Lima.', maxTokens: 4 });
    assert.equal(result.tokens.length, 4);
    assert.equal(result.truncated, true);
  });

  test('statistics measure the given text', async () => {
    const result = await call('packStatistics', { text: 'The capital of Peru is Lima.', maxTokens: 64, collisions: false });
    assert.equal(result.gateSource, 'text');
    assert.equal(result.statistics.layers.length, 2);
    assert.ok(result.statistics.layers[0].gate, 'gate statistics missing');
    assert.equal(result.statistics.layers[0].collisions, null);
  });

  test('statistics find the corpus from its manifest', async () => {
    // The pack stores the corpus path relative to the folder that training ran in.
    const result = await call('packStatistics', { maxTokens: 64, collisions: true });
    const expectedPath = join(countryFactsDir, 'facts.txt');
    assert.equal(result.corpusFiles.length, 1);
    assert.equal(result.corpusFiles[0].state, 'used', `${result.corpusFiles[0].path} should resolve to ${expectedPath}`);
    assert.equal(result.gateSource, 'corpus');
    assert.ok(result.statistics.corpus);
    assert.ok(result.statistics.corpus.documents > 0);
    assert.ok(result.statistics.layers[0].collisions);
  });

  test('generate streams without the pack', async () => {
    const options = { maxNewTokens: 6, temperature: 0, topP: 1, stopAtEos: false };
    const withPack = await call('generate', { prompt: 'The capital of Peru is', options, usePack: true });
    const base = await call('generate', { prompt: 'The capital of Peru is', options, usePack: false });
    const tokenEvents = sent.filter((message) => message.kind === 'event' && message.event === 'token');
    assert.ok(tokenEvents.length >= 12, `expected token events, got ${tokenEvents.length}`);
    assert.equal(typeof withPack.text, 'string');
    assert.equal(typeof base.text, 'string');
  });

  test('probe file scores both runs', async () => {
    const result = await call('runProbes', { file: probeFile });
    assert.equal(result.probes.length, 2);
    assert.equal(result.probes[0].answer, 'Lima');
    assert.equal(typeof result.probes[0].withPack.passed, 'boolean');
    assert.equal(typeof result.probes[0].withoutPack.passed, 'boolean');
  });
});

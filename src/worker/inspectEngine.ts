/**
 * Inspection requests served with the engine: per-token memory hits, pack statistics on the
 * pack's stored corpus, and probe files scored with and without the pack.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EngramError } from '../engine/errors';
import { scoreProbes } from '../engine/eval';
import { inspectText, packStatistics } from '../engine/inspect';
import type { Logger } from '../engine/log';
import { readPackMetadata } from '../engine/pack/pack';
import { readProbes } from '../engine/probes';
import type { EngramRuntime } from '../engine/runtime';
import { loadCorpus } from '../engine/train/corpus';
import type { PackStatisticsParams, PackStatisticsResult, ProbeRunResult, TokenInspectionMessage } from '../protocol/inspect';

/** Maximum probes per file; one probe costs two forward passes of its prompt and answer. */
export const maxProbes = 10_000;

export function inspectTokens(runtime: EngramRuntime, text: string, maxTokens: number): Promise<TokenInspectionMessage> {
  return inspectText(runtime, text, { maxTokens, topPredictions: 3 });
}

interface ManifestFile {
  path: string;
  sha256?: string;
}

/** Files of the corpus manifest stored in a pack, or [] when the pack stores none. */
function manifestFiles(packDir: string): ManifestFile[] {
  const corpus = readPackMetadata(packDir).corpus as { files?: unknown } | undefined;
  if (!corpus || !Array.isArray(corpus.files)) return [];
  return corpus.files.filter((file): file is ManifestFile => typeof file === 'object' && file !== null && typeof (file as ManifestFile).path === 'string');
}

/**
 * Finds the pack's corpus files relative to `cwd` (the workspace folder that training ran in)
 * and sorts them into used, missing, and changed since training (another SHA-256).
 */
function packCorpusFiles(packDir: string, cwd: string): { used: string[]; states: PackStatisticsResult['corpusFiles'] } {
  const used: string[] = [];
  const states: PackStatisticsResult['corpusFiles'] = [];
  for (const file of manifestFiles(packDir)) {
    const absolute = resolve(cwd, file.path);
    if (!existsSync(absolute)) {
      states.push({ path: file.path, state: 'missing' });
      continue;
    }
    if (file.sha256 !== undefined && createHash('sha256').update(readFileSync(absolute)).digest('hex') !== file.sha256) {
      states.push({ path: file.path, state: 'changed' });
      continue;
    }
    used.push(absolute);
    states.push({ path: file.path, state: 'used' });
  }
  return { used, states };
}

/**
 * Measures the statistics of the attached pack. The gate is measured on `params.text`, or else
 * on the start of the pack's corpus, documents joined by blank lines.
 */
export async function statisticsForPack(runtime: EngramRuntime, params: PackStatisticsParams, cwd: string, log: Logger): Promise<PackStatisticsResult> {
  const pack = runtime.attachedPack;
  if (!pack) throw new EngramError('invalid-argument', 'No pack is attached, so there are no statistics to show. Attach a pack first.');

  const corpus = packCorpusFiles(pack.dir, cwd);
  const documents = corpus.used.length > 0 ? loadCorpus(corpus.used, { cwd }).documents : undefined;
  for (const file of corpus.states) {
    if (file.state !== 'used') log.info(`Pack statistics of ${pack.name}: corpus file ${file.path} is ${file.state}, so it is left out.`);
  }

  let text = params.text;
  let gateSource: PackStatisticsResult['gateSource'] = 'text';
  if (text === undefined || text.length === 0) {
    text = documents ? corpusSample(documents, params.maxTokens) : undefined;
    gateSource = text ? 'corpus' : 'none';
  }

  const statistics = await packStatistics(runtime, {
    text,
    maxTokens: params.maxTokens,
    corpusDocuments: params.collisions ? documents : undefined,
  });
  return { statistics, gateSource, corpusFiles: corpus.states };
}

/**
 * Joins the leading documents with blank lines, up to 16 characters per requested token.
 * `packStatistics` cuts the encoded text to `maxTokens`, so the sample only bounds the encoding work.
 */
function corpusSample(documents: string[], maxTokens: number): string {
  const maxCharacters = maxTokens * 16;
  let text = '';
  for (const document of documents) {
    if (text.length >= maxCharacters) break;
    text += (text ? '\n\n' : '') + document;
  }
  return text.slice(0, maxCharacters);
}

/** Scores every probe of `file` greedily, with the attached pack and with the base model. */
export async function runProbeFile(runtime: EngramRuntime, file: string): Promise<ProbeRunResult> {
  const memory = runtime.memory;
  if (!memory) throw new EngramError('invalid-argument', 'No pack is attached, so probes cannot be compared with and without it. Attach a pack first.');
  const probes = readProbes(file);
  if (probes.length > maxProbes) {
    throw new EngramError('invalid-argument', `${file} has ${probes.length} probes; at most ${maxProbes} can be run at once. Split the file.`);
  }
  const withPack = await scoreProbes(runtime.model, memory, runtime.tokenizer, probes);
  const withoutPack = await scoreProbes(runtime.model, undefined, runtime.tokenizer, probes);
  return {
    file,
    probes: probes.map((probe, i) => ({
      ...probe,
      withPack: { passed: withPack[i].passed, predicted: withPack[i].predicted },
      withoutPack: { passed: withoutPack[i].passed, predicted: withoutPack[i].predicted },
    })),
  };
}

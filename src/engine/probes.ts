import { existsSync, readFileSync } from 'node:fs';
import { EngramError } from './errors';
import type { Probe } from './eval';

/**
 * Reads a probe file: tab-separated `prompt`, `answer` and an optional `relation` column, with
 * a header line that names them.
 */
export function readProbes(file: string): Probe[] {
  if (!existsSync(file)) throw new EngramError('not-found', `Probe file not found: ${file}.`);
  const lines = readFileSync(file, 'utf8').replace(/\r\n/g, '\n').split('\n').filter((line) => line.trim().length > 0);
  const headerLine = lines.shift() ?? '';
  const header = headerLine.split('\t').map((cell) => cell.trim().toLowerCase());
  const promptColumn = header.indexOf('prompt');
  const answerColumn = header.indexOf('answer');
  const relationColumn = header.indexOf('relation');
  if (promptColumn < 0 || answerColumn < 0) {
    throw new EngramError('invalid-argument', `${file}: the first line must name the columns "prompt" and "answer" (tab-separated), found "${headerLine.replace(/\t/g, '\\t')}".`);
  }
  const probes = lines.map((line, i) => {
    const cells = line.split('\t');
    const prompt = cells[promptColumn]?.trim();
    const answer = cells[answerColumn]?.trim();
    if (!prompt || !answer) throw new EngramError('invalid-argument', `${file} line ${i + 2}: a probe needs a prompt and an answer separated by a tab.`);
    return { prompt, answer, relation: relationColumn >= 0 ? (cells[relationColumn]?.trim() || 'all') : 'all' };
  });
  if (probes.length === 0) throw new EngramError('invalid-argument', `${file} has no probes after its header line.`);
  return probes;
}

/**
 * Markdown of the hover on an inspected token. It shows the token and its n-grams, the gate and
 * contribution per layer, and the row each hash head looked up with that row's training hits.
 * Then it lists the top next-token predictions with and without the pack. The file imports
 * nothing from VS Code, so it is unit-tested.
 */
import type { InspectedTokenMessage } from '../../protocol/inspect';
import { bucketCount, bucketOf, bucketRange, type HitScale, tokenStrength } from './hitScale';

/** Localized text of the hover; templates contain {0}, {1}, … placeholders. */
export interface HoverStrings {
  /** {0}: token string, {1}: token id, {2}: canonical id. */
  title: string;
  /** {0}: n-gram order, {1}: n-gram text, {2}: canonical ids. */
  ngram: string;
  /** {0}: padded positions before the start of the text. */
  ngramPadded: string;
  /** {0}: strength, {1}: bucket number, {2}: bucket count, {3}: lower bound, {4}: upper bound. */
  colorGate: string;
  colorContribution: string;
  /** Shown for a token below the first bucket. {0}: strength. */
  colorNoneGate: string;
  colorNoneContribution: string;
  layer: string;
  gate: string;
  contributionNorm: string;
  order: string;
  headColumn: string;
  /** {0}: 0-based decoder block. */
  layerColumn: string;
  rowsCaption: string;
  predictionsHeading: string;
  rank: string;
  withPack: string;
  withoutPack: string;
  probability: string;
  /** {0}: next token text, {1}: probability with the pack, {2}: without. */
  actualNext: string;
}

export function formatTemplate(template: string, ...values: (string | number)[]): string {
  return template.replace(/\{(\d+)\}/g, (match, index: string) => {
    const value = values[Number(index)];
    return value === undefined ? match : String(value);
  });
}

/**
 * Inline code that shows `text` exactly, quoted as a JSON string so that spaces and line breaks
 * are visible. In a table cell a `|` must be escaped even inside a code span (GFM).
 */
export function codeSpan(text: string, inTable = false): string {
  let content = JSON.stringify(text);
  if (inTable) content = content.replace(/\|/g, '\\|');
  const longestRun = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  return `${fence}${content}${fence}`;
}

/** Escapes Markdown syntax in plain text, such as a translated label. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]()#+\-.!|<>~]/g, (character) => `\\${character}`);
}

export function formatProbability(probability: number): string {
  return `${(probability * 100).toFixed(1)} %`;
}

export function formatNumber(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return Math.round(value).toString();
  return Number(value.toPrecision(3)).toString();
}

function tableRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Builds the line that names the token's color bucket and the values that bucket covers. */
function colorLine(token: InspectedTokenMessage, scale: HitScale, strings: HoverStrings): string {
  const strength = tokenStrength(token, scale.metric);
  const bucket = bucketOf(strength, scale);
  const gate = scale.metric === 'gate';
  if (bucket === undefined) return formatTemplate(escapeMarkdown(gate ? strings.colorNoneGate : strings.colorNoneContribution), formatNumber(strength));
  const range = bucketRange(bucket, scale);
  return formatTemplate(
    escapeMarkdown(gate ? strings.colorGate : strings.colorContribution),
    formatNumber(strength),
    bucket + 1,
    bucketCount,
    formatNumber(range.lower),
    formatNumber(range.upper),
  );
}

/** Builds a table with one row per Engram layer: its gate and the norm of its contribution at this token. */
function layerTable(token: InspectedTokenMessage, strings: HoverStrings): string[] {
  const lines = [tableRow([strings.layer, strings.gate, strings.contributionNorm].map(escapeMarkdown)), tableRow(['---:', '---:', '---:'])];
  for (const layer of token.layers) lines.push(tableRow([String(layer.layer), layer.gate.toFixed(3), formatNumber(layer.contributionNorm)]));
  return lines;
}

/**
 * Builds a table with one row per hash head (n-gram order and head) and one column per layer.
 * Each cell is the table row that the head looked up, and in brackets how often that row was
 * hit in training.
 */
function headTable(token: InspectedTokenMessage, strings: HoverStrings): string[] {
  const headers = [strings.order, strings.headColumn, ...token.layers.map((layer) => formatTemplate(strings.layerColumn, layer.layer))];
  const lines = [tableRow(headers.map(escapeMarkdown)), tableRow(headers.map(() => '---:'))];
  // Every layer hashes the same orders and head counts, so the first layer's heads give the rows.
  for (const { order, head } of token.layers[0]?.heads ?? []) {
    const cells = [String(order), String(head)];
    for (const layer of token.layers) {
      const hit = layer.heads.find((candidate) => candidate.order === order && candidate.head === head);
      cells.push(hit ? `${hit.row} (${formatNumber(hit.trainingHits)})` : '');
    }
    lines.push(tableRow(cells));
  }
  return lines;
}

function predictionTable(token: InspectedTokenMessage, strings: HoverStrings): string[] {
  const lines = [
    tableRow([strings.rank, strings.withPack, strings.probability, strings.withoutPack, strings.probability].map(escapeMarkdown)),
    tableRow(['---:', '---', '---:', '---', '---:']),
  ];
  const count = Math.max(token.withPack.length, token.withoutPack.length);
  for (let k = 0; k < count; k++) {
    const withPack = token.withPack[k];
    const withoutPack = token.withoutPack[k];
    lines.push(
      tableRow([
        String(k + 1),
        withPack ? codeSpan(withPack.text, true) : '',
        withPack ? formatProbability(withPack.probability) : '',
        withoutPack ? codeSpan(withoutPack.text, true) : '',
        withoutPack ? formatProbability(withoutPack.probability) : '',
      ]),
    );
  }
  return lines;
}

/**
 * Markdown for the hover of `token`. `nextText` is the text of the token that follows in the
 * document, when there is one.
 */
export function hoverMarkdown(token: InspectedTokenMessage, scale: HitScale, strings: HoverStrings, nextText?: string): string {
  const parts: string[] = [];
  parts.push(`**${formatTemplate(escapeMarkdown(strings.title), codeSpan(token.token), token.id, token.canonicalId)}**`);
  parts.push(colorLine(token, scale, strings));

  const ngramLines = token.ngrams.map((ngram) => {
    const line = formatTemplate(escapeMarkdown(strings.ngram), ngram.order, codeSpan(ngram.text), ngram.canonicalIds.join(', '));
    return ngram.padPositions > 0 ? `${line} ${formatTemplate(escapeMarkdown(strings.ngramPadded), ngram.padPositions)}` : line;
  });
  parts.push(ngramLines.join('  \n'));

  parts.push(layerTable(token, strings).join('\n'));
  parts.push([...headTable(token, strings), '', `*${escapeMarkdown(strings.rowsCaption)}*`].join('\n'));

  const predictions = [`**${escapeMarkdown(strings.predictionsHeading)}**`, '', ...predictionTable(token, strings)];
  if (token.next) {
    predictions.push('', formatTemplate(escapeMarkdown(strings.actualNext), codeSpan(nextText ?? ''), formatProbability(token.next.probabilityWithPack), formatProbability(token.next.probabilityWithoutPack)));
  }
  parts.push(predictions.join('\n'));
  return parts.join('\n\n');
}

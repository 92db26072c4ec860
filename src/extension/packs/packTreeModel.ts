/**
 * Packs view items built from the worker's pack listing: label, description, tooltip, and
 * whether the pack can be attached. Pure, so it is tested on real pack listings without VS Code.
 */
import { basename } from 'node:path';
import type { PackEntry } from '../../protocol/worker';
import { formatBytes, formatCount, formatDate, formatDuration } from '../format';
import { replaceCliFlags } from '../training/engineMessages';

export type PackItemKind = 'attached' | 'attachable' | 'mismatch' | 'invalid';

export interface PackItem {
  dir: string;
  name: string;
  kind: PackItemKind;
  /** `view/item/context` menus match on this. */
  contextValue: `engram.pack.${PackItemKind}`;
  description: string;
  /** Markdown. */
  tooltip: string;
  /** Reason the pack cannot be attached; set for 'mismatch' and 'invalid'. */
  reason?: string;
}

/** Folder name without the `.engram` suffix that packs carry. */
export function packNameFromDir(dir: string): string {
  return basename(dir).replace(/\.engram$/, '');
}

/** Strings shown in the view; the extension passes `vscode.l10n.t` versions. */
export interface PackTreeText {
  attached: string;
  cannotAttach: (reason: string) => string;
  unreadable: (reason: string) => string;
}

export const englishPackTreeText: PackTreeText = {
  attached: 'attached',
  cannotAttach: (reason) => `Cannot attach: ${reason}`,
  unreadable: (reason) => `Not a readable pack: ${reason}`,
};

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

export function buildPackItems(entries: readonly PackEntry[], attachedDir: string | undefined, text: PackTreeText = englishPackTreeText): PackItem[] {
  const items = entries.map((entry): PackItem => {
    const info = entry.info;
    const name = info?.name ?? packNameFromDir(entry.dir);
    if (!info) {
      const reason = replaceCliFlags(entry.error ?? 'metadata missing');
      return { dir: entry.dir, name, kind: 'invalid', contextValue: 'engram.pack.invalid', description: text.unreadable(reason), tooltip: `**${escapeMarkdown(name)}**\n\n${escapeMarkdown(text.unreadable(reason))}`, reason };
    }

    let kind: PackItemKind = 'attachable';
    if (entry.dir === attachedDir) kind = 'attached';
    else if (entry.mismatch) kind = 'mismatch';
    const descriptionParts = [info.baseModel.name, formatBytes(info.bytes), formatDate(info.createdAt)];
    if (kind === 'attached') descriptionParts.unshift(text.attached);

    const lines = [
      `**${escapeMarkdown(name)}**${kind === 'attached' ? ` (${text.attached})` : ''}`,
      '',
      `Base model: ${escapeMarkdown(info.baseModel.name)} (${info.baseModel.architecture}, hidden size ${info.baseModel.hiddenSize}, ${info.baseModel.numLayers} layers)`,
      `Size: ${formatBytes(info.bytes)}`,
      `Created: ${formatDate(info.createdAt)}`,
    ];
    const summary = info.summary;
    if (summary) {
      lines.push(
        '',
        `Training: ${formatCount(summary.steps)} steps on ${formatCount(summary.trainTokens)} tokens in ${formatDuration(summary.seconds)} (${summary.backend})`,
        `Final loss: ${summary.finalLoss.toFixed(4)}${summary.finalEvalLoss !== undefined ? `, eval ${summary.finalEvalLoss.toFixed(4)}` : ''}${summary.finalPreservationLoss !== undefined ? `, preservation ${summary.finalPreservationLoss.toFixed(4)}` : ''}`,
        `Memory layers: ${summary.options.engram.layers.join(', ')}; ${formatCount(summary.options.engram.rowsPerHead)} rows per head`,
      );
    }
    if (kind === 'mismatch' && entry.mismatch) lines.push('', escapeMarkdown(text.cannotAttach(entry.mismatch)));
    return {
      dir: entry.dir,
      name,
      kind,
      contextValue: `engram.pack.${kind}`,
      description: kind === 'mismatch' && entry.mismatch ? text.cannotAttach(entry.mismatch) : descriptionParts.join(' · '),
      tooltip: lines.join('  \n'),
      reason: kind === 'mismatch' ? entry.mismatch : undefined,
    };
  });
  return items.sort((left, right) => left.name.localeCompare(right.name));
}

export type PackNameProblem = 'empty' | 'separator' | 'leading-dot' | 'reserved-character' | 'too-long' | 'clash';

/** Maximum pack name length in characters, which leaves room for `.engram` under the common 255-byte file name limit. */
export const maxPackNameLength = 100;

/** Checks a new pack name against file-name rules and the existing packs; undefined when it can be used. */
export function checkPackName(name: string, existingNames: readonly string[]): PackNameProblem | undefined {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'empty';
  if (/[\\/]/.test(trimmed)) return 'separator';
  if (trimmed.startsWith('.')) return 'leading-dot';
  if (/[<>:"|?*\u0000-\u001f]/.test(trimmed)) return 'reserved-character';
  if (trimmed.length > maxPackNameLength) return 'too-long';
  if (existingNames.some((existing) => existing.toLowerCase() === trimmed.toLowerCase())) return 'clash';
  return undefined;
}

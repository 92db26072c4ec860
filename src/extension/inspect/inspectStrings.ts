/** Hover and legend text of Inspect Memory Hits in the user's language. */
import * as vscode from 'vscode';
import type { HitMetric } from './hitScale';
import type { HoverStrings } from './hoverMarkdown';

export function hoverStrings(): HoverStrings {
  return {
    title: vscode.l10n.t('Token {0} · id {1} · canonical id {2}'),
    ngram: vscode.l10n.t('{0}-gram {1} · canonical ids {2}'),
    ngramPadded: vscode.l10n.t('({0} padding positions before the start of the text)'),
    colorGate: vscode.l10n.t('Color: largest gate over the layers {0}, bucket {1} of {2} (gate {3} to {4}).'),
    colorContribution: vscode.l10n.t('Color: largest memory contribution norm over the layers {0}, bucket {1} of {2} ({3} to {4}, relative to the largest norm in the inspected text).'),
    colorNoneGate: vscode.l10n.t('No color: the largest gate over the layers is {0}, below 0.01.'),
    colorNoneContribution: vscode.l10n.t('No color: the largest memory contribution norm over the layers is {0}, below 5 % of the largest norm in the inspected text.'),
    layer: vscode.l10n.t('Layer'),
    gate: vscode.l10n.t('Gate'),
    contributionNorm: vscode.l10n.t('‖y‖'),
    order: vscode.l10n.t('n'),
    headColumn: vscode.l10n.t('Head'),
    layerColumn: vscode.l10n.t('Layer {0}'),
    rowsCaption: vscode.l10n.t('Each cell: the table row that the head looked up for this n-gram, and in brackets how often that row was looked up in training (0: it never trained). ‖y‖: norm of what the layer added to the hidden state.'),
    predictionsHeading: vscode.l10n.t('Next-token predictions'),
    rank: vscode.l10n.t('#'),
    withPack: vscode.l10n.t('with pack'),
    withoutPack: vscode.l10n.t('base model'),
    probability: vscode.l10n.t('p'),
    actualNext: vscode.l10n.t('Actual next token {0}: {1} with the pack, {2} with the base model.'),
  };
}

export function metricLabel(metric: HitMetric): string {
  return metric === 'gate' ? vscode.l10n.t('gate') : vscode.l10n.t('contribution norm');
}

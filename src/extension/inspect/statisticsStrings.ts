/** Pack Statistics text in the user's language, embedded in the page by the host. */
import * as vscode from 'vscode';
import type { StatisticsStrings } from '../../protocol/statistics';

export function statisticsStrings(): StatisticsStrings {
  return {
    title: vscode.l10n.t('Pack statistics: {0}'),
    loading: vscode.l10n.t('Measuring pack {0}…'),
    refresh: vscode.l10n.t('Refresh'),
    saveJson: vscode.l10n.t('Save as JSON'),
    layer: vscode.l10n.t('Layer {0}'),
    gateSourceText: vscode.l10n.t('Gate measured on {0} tokens of {1}.'),
    gateSourceCorpus: vscode.l10n.t('Gate measured on the first {0} tokens of the pack\'s corpus. Open a file and press Refresh to measure it on that file.'),
    gateSourceNone: vscode.l10n.t('No gate statistics: no editor text and no corpus file of the pack was found. Open a file and press Refresh.'),
    corpusSummary: vscode.l10n.t('Collisions counted on the pack\'s corpus: {0} documents, {1} tokens.'),
    corpusNone: vscode.l10n.t('No collisions counted: none of the pack\'s corpus files was found unchanged relative to the workspace folder.'),
    corpusFileMissing: vscode.l10n.t('{0} is missing.'),
    corpusFileChanged: vscode.l10n.t('{0} changed since training and was left out.'),
    tableHeading: vscode.l10n.t('Table use in training'),
    order: vscode.l10n.t('n-gram'),
    head: vscode.l10n.t('Head'),
    tableRows: vscode.l10n.t('Rows'),
    lookups: vscode.l10n.t('Lookups'),
    uniqueRows: vscode.l10n.t('Unique rows'),
    coverage: vscode.l10n.t('Share trained'),
    topRow: vscode.l10n.t('Most-hit row (hits)'),
    rankFrequency: vscode.l10n.t('Rank-frequency of row hits (log-log)'),
    rank: vscode.l10n.t('rank'),
    hits: vscode.l10n.t('hits'),
    positions: vscode.l10n.t('positions'),
    orderSeries: vscode.l10n.t('{0}-gram heads'),
    collisionsHeading: vscode.l10n.t('Hash collisions among the corpus n-grams'),
    distinctNGrams: vscode.l10n.t('Distinct n-grams'),
    occupiedRows: vscode.l10n.t('Occupied rows'),
    collidingNGrams: vscode.l10n.t('Sharing a row'),
    collidingOnAllHeads: vscode.l10n.t('Sharing a row on every head'),
    gateHeading: vscode.l10n.t('Gate distribution'),
    gateSummary: vscode.l10n.t('{0} positions · mean {1} · median {2} · 5th to 95th percentile {3} to {4}'),
    closedShare: vscode.l10n.t('Gate below 0.01 (memory shut): {0} of positions'),
    noGate: vscode.l10n.t('No gate values'),
  };
}

/** Playground text in the user's language, embedded in the page by the host. */
import * as vscode from 'vscode';
import type { PlaygroundStrings } from '../../protocol/playground';

export function playgroundStrings(): PlaygroundStrings {
  return {
    prompt: vscode.l10n.t('Prompt'),
    promptPlaceholder: vscode.l10n.t('The capital of France is'),
    generate: vscode.l10n.t('Complete'),
    temperature: vscode.l10n.t('Temperature (0: greedy)'),
    topP: vscode.l10n.t('Top-p'),
    maxTokens: vscode.l10n.t('Max new tokens'),
    withPack: vscode.l10n.t('With pack {0}'),
    withoutPack: vscode.l10n.t('Base model'),
    noPack: vscode.l10n.t('No pack attached. Run "Engram: Attach Pack", then complete again.'),
    packLabel: vscode.l10n.t('Pack {0} on {1}'),
    generating: vscode.l10n.t('generating…'),
    failed: vscode.l10n.t('Completion failed: {0}'),
    invalidNumber: vscode.l10n.t('{0} must be a number from {1} to {2}.'),
    invalidInteger: vscode.l10n.t('{0} must be a whole number from {1} to {2}.'),
    emptyPrompt: vscode.l10n.t('Enter a prompt to complete.'),
    same: vscode.l10n.t('Both completions are the same.'),
    different: vscode.l10n.t('The completions differ.'),
    runProbes: vscode.l10n.t('Run Probe File…'),
    probesRunning: vscode.l10n.t('Scoring {0}…'),
    probesSummary: vscode.l10n.t('{0}: {1} of {2} passed with the pack, {3} of {4} with the base model.'),
    probesFailed: vscode.l10n.t('Scoring the probe file failed: {0}'),
    probePrompt: vscode.l10n.t('Prompt'),
    probeAnswer: vscode.l10n.t('Answer'),
    probeRelation: vscode.l10n.t('Relation'),
    passed: vscode.l10n.t('pass'),
    notPassed: vscode.l10n.t('fail'),
  };
}

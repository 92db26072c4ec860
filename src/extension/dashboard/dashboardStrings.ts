/** Dashboard text in the user's language, embedded in the page by the host. */
import * as vscode from 'vscode';
import type { DashboardStrings } from '../../protocol/dashboard';

export function dashboardStrings(): DashboardStrings {
  return {
    noRun: vscode.l10n.t('No training run to show. Run "Engram: Train Pack", or open the training history of a pack from the Packs view.'),
    noData: vscode.l10n.t('No data yet'),
    loss: vscode.l10n.t('Loss'),
    lossRaw: vscode.l10n.t('loss'),
    lossSmoothed: vscode.l10n.t('smoothed'),
    evalLoss: vscode.l10n.t('eval loss'),
    preservationLoss: vscode.l10n.t('preservation loss'),
    learningRate: vscode.l10n.t('Learning rate'),
    tokensPerSecond: vscode.l10n.t('Tokens per second'),
    memory: vscode.l10n.t('Memory'),
    backendBytes: vscode.l10n.t('backend tensors'),
    rssBytes: vscode.l10n.t('worker RSS'),
    gpuBytes: vscode.l10n.t('GPU (nvidia-smi)'),
    rowsTouched: vscode.l10n.t('Active rows per step'),
    rowsTouchedShare: vscode.l10n.t('Share of rows touched so far'),
    rowHits: vscode.l10n.t('Row hits per layer and head'),
    layer: vscode.l10n.t('layer {0}'),
    rowHitsCaption: vscode.l10n.t('Hits since the start, up to step {0}. The bucket with the strongest color has {1} hits (log color scale).'),
    smoothing: vscode.l10n.t('Smoothing'),
    logScale: vscode.l10n.t('Log scale'),
    exportCsv: vscode.l10n.t('Export CSV'),
    cancel: vscode.l10n.t('Cancel Training'),
    stepProgress: vscode.l10n.t('step {0} of {1}'),
    timeLeft: vscode.l10n.t('about {0} left'),
    'state.starting': vscode.l10n.t('starting'),
    'state.running': vscode.l10n.t('training'),
    'state.cancelling': vscode.l10n.t('cancelling'),
    'state.done': vscode.l10n.t('done'),
    'state.cancelled': vscode.l10n.t('cancelled'),
    'state.failed': vscode.l10n.t('failed'),
    'state.replayed': vscode.l10n.t('history'),
  };
}

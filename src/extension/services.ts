/** The extension's long-lived parts, created once in `activate` and passed to each command. */
import type * as vscode from 'vscode';
import type { EngramSettings } from './config';
import type { DashboardPanel } from './dashboard/dashboardPanel';
import type { PackTreeProvider } from './packs/packTreeProvider';
import type { TrainingController } from './training/trainingController';
import type { RuntimeService } from './worker/runtimeService';

export interface EngramServices {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  runtime: RuntimeService;
  training: TrainingController;
  dashboard: DashboardPanel;
  packs: PackTreeProvider;
  settings(): EngramSettings;
  /** First workspace folder, where relative settings and corpus globs are resolved. */
  workspaceRoot(): string | undefined;
}

/** Keys of remembered choices in `workspaceState` (per workspace) and `globalState`. */
export const memoryKeys = {
  lastCorpus: 'engram.lastCorpus',
  lastPackName: 'engram.lastPackName',
  recentModels: 'engram.recentModels',
  /** Record of model folder + backend → last measured tokens per second. */
  throughput: 'engram.throughput',
} as const;

/** "Engram: Doctor": checks the model, packs folder, worker and backends, and writes a report to the log. */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { formatBytes } from './format';
import { inspectModelFolder } from './model/modelFolder';
import { describeModelProblem } from './model/selectModel';
import type { EngramServices } from './services';

export async function runDoctor(services: EngramServices): Promise<void> {
  const { log } = services;
  const settings = services.settings();
  const lines: string[] = ['Engram Doctor'];
  let problems = 0;
  const problem = (text: string) => {
    problems++;
    lines.push(`  ✗ ${text}`);
  };
  const ok = (text: string) => lines.push(`  ✓ ${text}`);

  lines.push(`Extension host: Node ${process.version}, VS Code ${vscode.version}, workspace trusted: ${vscode.workspace.isTrusted}`);
  if (!settings.modelFolder) problem('engram.modelFolder is not set. Run "Engram: Select Model".');
  else {
    const model = inspectModelFolder(settings.modelFolder);
    if (model.ok) ok(`Model ${model.info.name}: ${model.info.architecture}, hidden size ${model.info.hiddenSize}, ${model.info.numLayers} layers (${settings.modelFolder})`);
    else problem(describeModelProblem(settings.modelFolder, model.problem));
  }
  if (!settings.packsFolder) problem('engram.packsFolder is relative and no folder is open.');
  else ok(`Packs folder: ${settings.packsFolder}${existsSync(settings.packsFolder) ? '' : ' (created by the first training run)'}`);

  try {
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Engram: checking the worker and backends…') }, () =>
      services.runtime.request('doctor', {}),
    );
    ok(`Worker: Node ${report.nodeVersion} on ${report.platform}-${report.arch}, ${report.cpus} CPUs, ${formatBytes(report.totalMemoryBytes)} memory`);
    for (const backend of report.backends) {
      if (backend.available) ok(`Backend ${backend.name}: loads`);
      else lines.push(`  – Backend ${backend.name}: unavailable (${backend.detail})`);
    }
    if (!report.backends.some((backend) => backend.available)) problem('No TensorFlow.js backend loads in the worker.');
    if (report.gpus.length === 0) lines.push('  – No NVIDIA GPU found (nvidia-smi missing or no device)');
    for (const gpu of report.gpus) ok(`GPU ${gpu.name}: ${formatBytes(gpu.memoryTotalBytes)}`);
  } catch (error) {
    problem(`The worker request failed: ${(error as Error).message}`);
  }

  for (const line of lines) log.info(line);
  log.show(true);
  const summary = problems === 0 ? vscode.l10n.t('Engram Doctor found no problems. The report is in the Engram log.') : vscode.l10n.t('Engram Doctor found {0} problems. The report is in the Engram log.', problems);
  if (problems === 0) void vscode.window.showInformationMessage(summary);
  else void vscode.window.showWarningMessage(summary);
}

/** The "Engram" log channel and the adapter that routes worker output into it. */
import * as vscode from 'vscode';
import type { ClientLog } from './worker/workerClient';

export function createClientLog(channel: vscode.LogOutputChannel, source: string): ClientLog {
  return {
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
    worker: (level, message) => {
      const line = `[${source}] ${message}`;
      if (level === 'error') channel.error(line);
      else if (level === 'warn') channel.warn(line);
      else if (level === 'info') channel.info(line);
      else if (level === 'debug') channel.debug(line);
      else channel.trace(line);
    },
  };
}

/** Shows `message` as an error notification with a "Show Log" action; the details stay in the log. */
export async function showErrorWithLog(channel: vscode.LogOutputChannel, message: string): Promise<void> {
  const showLog = vscode.l10n.t('Show Log');
  const choice = await vscode.window.showErrorMessage(message, showLog);
  if (choice === showLog) channel.show(true);
}

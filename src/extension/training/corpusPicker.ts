/**
 * Corpus choice for Train Pack: the last corpus, workspace files, a glob pattern, or files and
 * folders from a dialog. Returns patterns in the form the engine reads: paths relative to the
 * workspace folder (the worker's working folder), absolute paths, or globs.
 */
import { isAbsolute, relative } from 'node:path';
import * as vscode from 'vscode';

/** File types the engine reads as corpus. */
const corpusGlob = '**/*.{txt,md,jsonl}';
const excludedGlob = '{**/node_modules/**,**/.git/**,**/.engram/**,**/dist/**,**/out/**}';
/** Most workspace files offered in the picker; a glob pattern covers larger corpora. */
const maxListedFiles = 2000;

function toPattern(uri: vscode.Uri, root: string | undefined): string {
  if (!root) return uri.fsPath;
  const path = relative(root, uri.fsPath);
  return path.startsWith('..') || isAbsolute(path) ? uri.fsPath : path.split('\\').join('/');
}

async function pickWorkspaceFiles(root: string | undefined, previous: readonly string[]): Promise<string[] | undefined> {
  const uris = await vscode.workspace.findFiles(corpusGlob, excludedGlob, maxListedFiles);
  if (uris.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No .txt, .md or .jsonl files in the workspace.'));
    return undefined;
  }
  const items = uris
    .map((uri) => toPattern(uri, root))
    .sort()
    .map((path) => ({ label: path, picked: previous.includes(path) }));
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: vscode.l10n.t('Corpus files'),
    placeHolder: vscode.l10n.t('Select the files to train on'),
  });
  return picked && picked.length > 0 ? picked.map((item) => item.label) : undefined;
}

async function enterGlob(root: string | undefined, previous: readonly string[]): Promise<string[] | undefined> {
  const input = vscode.window.createInputBox();
  input.title = vscode.l10n.t('Corpus glob pattern');
  input.placeholder = 'docs/**/*.md';
  input.value = previous.find((pattern) => /[*?]/.test(pattern)) ?? corpusGlob;
  input.prompt = vscode.l10n.t('Relative to the workspace folder. Matches .txt, .md and .jsonl files.');
  let counter = 0;
  const updateCount = async () => {
    const current = ++counter;
    const pattern = input.value.trim();
    if (pattern.length === 0 || !root) return;
    const matches = await vscode.workspace.findFiles(new vscode.RelativePattern(root, pattern), excludedGlob, maxListedFiles);
    if (current !== counter) return;
    const usable = matches.filter((uri) => /\.(txt|md|jsonl)$/i.test(uri.fsPath)).length;
    input.validationMessage = usable === 0 ? vscode.l10n.t('No corpus files match.') : undefined;
    if (usable >= maxListedFiles) input.prompt = vscode.l10n.t('{0} or more corpus files match.', maxListedFiles);
    else input.prompt = usable === 1 ? vscode.l10n.t('1 corpus file matches.') : vscode.l10n.t('{0} corpus files match.', usable);
  };
  void updateCount();
  return new Promise((resolve) => {
    input.onDidChangeValue(() => void updateCount());
    input.onDidAccept(() => {
      if (input.validationMessage) return;
      const value = input.value.trim();
      input.hide();
      resolve(value.length > 0 ? [value] : undefined);
    });
    input.onDidHide(() => {
      resolve(undefined);
      input.dispose();
    });
    input.show();
  });
}

async function browse(root: string | undefined): Promise<string[] | undefined> {
  const uris = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: true,
    defaultUri: root ? vscode.Uri.file(root) : undefined,
    openLabel: vscode.l10n.t('Use as Corpus'),
    filters: { [vscode.l10n.t('Corpus')]: ['txt', 'md', 'jsonl'] },
  });
  return uris && uris.length > 0 ? uris.map((uri) => toPattern(uri, root)) : undefined;
}

/** Asks for the corpus; the last corpus of this workspace is the first, preselected choice. */
export async function pickCorpus(root: string | undefined, previous: readonly string[]): Promise<string[] | undefined> {
  interface SourceItem extends vscode.QuickPickItem {
    source: 'previous' | 'workspace' | 'glob' | 'browse';
  }
  const items: SourceItem[] = [];
  if (previous.length > 0) {
    items.push({ label: `$(history) ${vscode.l10n.t('Last corpus')}`, description: previous.join(', '), source: 'previous' });
  }
  items.push(
    { label: `$(files) ${vscode.l10n.t('Workspace files…')}`, description: '.txt .md .jsonl', source: 'workspace' },
    { label: `$(search) ${vscode.l10n.t('Glob pattern…')}`, description: 'docs/**/*.md', source: 'glob' },
    { label: `$(folder-opened) ${vscode.l10n.t('Browse for files or folders…')}`, source: 'browse' },
  );
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Train Pack: corpus'), placeHolder: vscode.l10n.t('What should the pack learn from?') });
  switch (picked?.source) {
    case 'previous':
      return [...previous];
    case 'workspace':
      return pickWorkspaceFiles(root, previous);
    case 'glob':
      return enterGlob(root, previous);
    case 'browse':
      return browse(root);
    default:
      return undefined;
  }
}

/**
 * "Engram: Inspect Memory Hits" runs the model with the attached pack on the active editor's
 * selection or file, in the runtime worker. Each token gets a background color by how strongly
 * memory acted there, a hover with its table rows and predictions, and a status bar legend
 * explains the colors. An edit of an inspected document drops its colors, because the token
 * ranges no longer hold.
 */
import * as vscode from 'vscode';
import type { InspectedTokenMessage, TokenInspectionMessage } from '../../protocol/inspect';
import { showErrorWithLog } from '../log';
import type { EngramServices } from '../services';
import { WorkerRequestError } from '../worker/workerClient';
import { bucketCount, bucketRange, groupByBucket, type HitMetric, hitScale, type HitScale } from './hitScale';
import { formatNumber, hoverMarkdown } from './hoverMarkdown';
import { hitMetricKey, inspectedSlice, readHitMetric, readInspectMaxTokens } from './inspectSettings';
import { hoverStrings, metricLabel } from './inspectStrings';
import { ensurePackAttached } from './readiness';

/** Theme color ids of the buckets, weakest first; package.json `contributes.colors` defines them. */
export const bucketColorIds = ['engram.memoryHit.weak', 'engram.memoryHit.medium', 'engram.memoryHit.strong', 'engram.memoryHit.strongest'] as const;

interface DocumentInspection {
  version: number;
  /** Offset of the inspected text in the document (UTF-16 code units). */
  offset: number;
  text: string;
  result: TokenInspectionMessage;
  /** Document range of each token, or undefined for a token without text (BOS). */
  ranges: (vscode.Range | undefined)[];
}

export class MemoryHits implements vscode.Disposable {
  private readonly decorationTypes: vscode.TextEditorDecorationType[];
  private readonly legend: vscode.StatusBarItem;
  /** Inspections by document URI. */
  private readonly inspections = new Map<string, DocumentInspection>();
  private readonly disposables: vscode.Disposable[] = [];
  private metric: HitMetric;
  /** Folder and creation time of the pack attached when the inspections ran. */
  private attachedPackKey: string | undefined;

  constructor(private readonly services: EngramServices) {
    this.metric = readHitMetric(services.context.globalState.get(hitMetricKey));
    const attached = services.runtime.state.attached;
    this.attachedPackKey = attached ? `${attached.dir}|${attached.createdAt}` : undefined;
    this.decorationTypes = bucketColorIds.map((id, bucket) =>
      vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor(id),
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        // Only the strongest bucket marks the scroll bar, so strong hits are found in long files.
        ...(bucket === bucketCount - 1 ? { overviewRulerColor: new vscode.ThemeColor(id), overviewRulerLane: vscode.OverviewRulerLane.Right } : {}),
      }),
    );
    this.legend = vscode.window.createStatusBarItem('engram.memoryHitsLegend', vscode.StatusBarAlignment.Left, 49);
    this.legend.name = vscode.l10n.t('Engram Memory Hits');
    this.legend.command = 'engram.chooseMemoryHitMetric';

    this.disposables.push(
      vscode.languages.registerHoverProvider('*', { provideHover: (document, position) => this.hover(document, position) }),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length > 0 && this.inspections.has(event.document.uri.toString())) this.forget(event.document.uri);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => this.inspections.delete(document.uri.toString())),
      vscode.window.onDidChangeVisibleTextEditors(() => this.redraw()),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateLegend()),
    );
  }

  /** Command handler of "Engram: Inspect Memory Hits". */
  async inspect(): Promise<void> {
    const action = vscode.l10n.t('Inspect Memory Hits');
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Open a file or select text, then run Inspect Memory Hits again.'));
      return;
    }
    if (!(await ensurePackAttached(this.services, action))) return;

    const document = editor.document;
    const maxTokens = readInspectMaxTokens((key) => vscode.workspace.getConfiguration('engram').get(key));
    const selection = editor.selection.isEmpty ? undefined : { start: document.offsetAt(editor.selection.start), end: document.offsetAt(editor.selection.end) };
    const slice = inspectedSlice(document.getText(), selection, maxTokens);
    if (slice.text.trim().length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('There is no text to inspect. Select some text or open a file that is not empty.'));
      return;
    }

    const version = document.version;
    let result: TokenInspectionMessage;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Inspecting memory hits…') },
        () => this.services.runtime.request('inspect', { text: slice.text, maxTokens }),
      );
    } catch (error) {
      this.services.log.error(`Inspecting ${document.uri.toString()} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (error instanceof WorkerRequestError && error.code === 'invalid-argument') {
        void vscode.window.showErrorMessage(vscode.l10n.t('{0} failed: {1}', action, error.message));
      } else {
        await showErrorWithLog(this.services.log, vscode.l10n.t('{0} failed: {1}', action, error instanceof Error ? error.message : String(error)));
      }
      return;
    }
    if (document.isClosed || document.version !== version) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} changed while it was inspected. Run Inspect Memory Hits again.', document.fileName));
      return;
    }

    const ranges = result.tokens.map((token) =>
      token.range && token.range.end > token.range.start
        ? new vscode.Range(document.positionAt(slice.offset + token.range.start), document.positionAt(slice.offset + token.range.end))
        : undefined,
    );
    this.inspections.set(document.uri.toString(), { version, offset: slice.offset, text: slice.text, result, ranges });
    this.services.log.info(`Inspected ${result.tokens.length} of ${result.totalTokens} tokens of ${document.uri.toString()} with pack ${result.pack}.`);
    this.redraw();
    this.updateLegend();
    if (result.truncated || slice.cut) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Inspected the first {0} tokens. Select a part of the file to inspect it, or raise the setting engram.inspect.maxTokens.', result.tokens.length),
      );
    }
  }

  /** Command handler of "Engram: Clear Memory Hits": removes the colors from every document. */
  clear(): void {
    this.inspections.clear();
    this.redraw();
    this.updateLegend();
  }

  /**
   * Drops every inspection when the attached pack changes (detach, switch, rename or re-attach),
   * because its colors, legend and hovers describe the pack that was attached when it ran.
   */
  onRuntimeChanged(): void {
    const attached = this.services.runtime.state.attached;
    const key = attached ? `${attached.dir}|${attached.createdAt}` : undefined;
    if (key === this.attachedPackKey) return;
    this.attachedPackKey = key;
    if (this.inspections.size > 0) this.clear();
  }

  /** Command handler of "Engram: Color Memory Hits By…": picks the metric and remembers it. */
  async chooseMetric(): Promise<void> {
    interface MetricItem extends vscode.QuickPickItem {
      metric: HitMetric;
    }
    const items: MetricItem[] = [
      {
        metric: 'contribution',
        label: vscode.l10n.t('Contribution norm'),
        description: this.metric === 'contribution' ? vscode.l10n.t('current') : undefined,
        detail: vscode.l10n.t('Norm of what the memory adds to the hidden state, relative to the largest in the inspected text.'),
      },
      {
        metric: 'gate',
        label: vscode.l10n.t('Gate'),
        description: this.metric === 'gate' ? vscode.l10n.t('current') : undefined,
        detail: vscode.l10n.t('Context gate from 0 (memory shut) to 1 (memory fully let through).'),
      },
    ];
    const picked = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('Color memory hits by') });
    if (!picked) return;
    this.metric = picked.metric;
    await this.services.context.globalState.update(hitMetricKey, picked.metric);
    this.redraw();
    this.updateLegend();
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
    for (const type of this.decorationTypes) type.dispose();
    this.legend.dispose();
  }

  private scaleOf(inspection: DocumentInspection): HitScale {
    return hitScale(inspection.result.tokens, this.metric);
  }

  private forget(uri: vscode.Uri): void {
    this.inspections.delete(uri.toString());
    this.redraw();
    this.updateLegend();
  }

  /** Applies the colors of every inspection to the visible editors, and removes stale ones. */
  private redraw(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const inspection = this.inspections.get(editor.document.uri.toString());
      const groups = inspection ? groupByBucket(inspection.result.tokens, this.scaleOf(inspection)) : [];
      this.decorationTypes.forEach((type, bucket) => {
        const ranges = (groups[bucket] ?? []).map((index) => inspection?.ranges[index]).filter((range): range is vscode.Range => range !== undefined);
        editor.setDecorations(type, ranges);
      });
    }
  }

  private updateLegend(): void {
    const editor = vscode.window.activeTextEditor;
    const inspection = editor ? this.inspections.get(editor.document.uri.toString()) : undefined;
    if (!inspection) {
      this.legend.hide();
      return;
    }
    const scale = this.scaleOf(inspection);
    this.legend.text = `$(symbol-color) ${vscode.l10n.t('Memory hits: {0}', metricLabel(this.metric))}`;
    this.legend.tooltip = this.legendTooltip(inspection, scale);
    this.legend.show();
  }

  private legendTooltip(inspection: DocumentInspection, scale: HitScale): vscode.MarkdownString {
    const { result } = inspection;
    const lines = [
      `**${vscode.l10n.t('Memory hits of pack {0}', result.pack)}**`,
      '',
      vscode.l10n.t('{0} of {1} tokens inspected, memory at layers {2}.', result.tokens.length, result.totalTokens, result.layers.join(', ')),
      '',
      this.metric === 'gate'
        ? vscode.l10n.t('Background color: the largest gate of a token over the layers, from the faintest color to the strongest:')
        : vscode.l10n.t('Background color: the largest memory contribution norm of a token over the layers, relative to the largest in this text ({0}), from the faintest color to the strongest:', formatNumber(scale.maxValue)),
      '',
    ];
    for (let bucket = 0; bucket < bucketCount; bucket++) {
      const range = bucketRange(bucket, scale);
      lines.push(`- ${vscode.l10n.t('color {0}: {1} to {2}', bucket + 1, formatNumber(range.lower), formatNumber(range.upper))}`);
    }
    lines.push('', vscode.l10n.t('Weaker tokens have no color. Hover a token for its rows and predictions. Click to color by another measure.'));
    const markdown = new vscode.MarkdownString(lines.join('\n'));
    markdown.isTrusted = false;
    return markdown;
  }

  private hover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const inspection = this.inspections.get(document.uri.toString());
    if (!inspection || inspection.version !== document.version) return undefined;
    const index = tokenIndexAt(inspection.ranges, position);
    if (index === undefined) return undefined;
    const token = inspection.result.tokens[index];
    const markdown = new vscode.MarkdownString(hoverMarkdown(token, this.scaleOf(inspection), hoverStrings(), nextTokenText(inspection, index)));
    markdown.isTrusted = false;
    return new vscode.Hover(markdown, inspection.ranges[index]);
  }
}

/** Index of the token whose range contains `position` (start inclusive, end exclusive). */
function tokenIndexAt(ranges: readonly (vscode.Range | undefined)[], position: vscode.Position): number | undefined {
  for (let index = 0; index < ranges.length; index++) {
    const range = ranges[index];
    if (range && range.start.isBeforeOrEqual(position) && position.isBefore(range.end)) return index;
  }
  return undefined;
}

function nextTokenText(inspection: DocumentInspection, index: number): string | undefined {
  const next: InspectedTokenMessage | undefined = inspection.result.tokens[index + 1];
  if (!next?.range) return undefined;
  return inspection.text.slice(next.range.start, next.range.end);
}

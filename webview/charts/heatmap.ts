/**
 * Heatmap of row hits: one band per Engram layer, one row per hash head, one column per bucket
 * of table rows. Color is log(1 + hits) scaled to the largest count, so rarely hit buckets stay
 * visible next to hot ones.
 */
import type { RowHitsEvent } from '../../src/engine/types';
import { themeColor } from './lineChart';

const labelWidth = 64;

export class Heatmap {
  private readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private event: RowHitsEvent | undefined;

  constructor(
    container: HTMLElement,
    private readonly text: { empty: string; layer: (layer: number) => string; caption: (step: number, maxHits: number) => string },
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.caption = document.createElement('div');
    this.caption.className = 'legend';
    container.append(this.canvas, this.caption);
  }

  update(event: RowHitsEvent | undefined): void {
    this.event = event;
    this.draw();
  }

  draw(): void {
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (width === 0 || height === 0) return;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    const context = this.canvas.getContext('2d');
    if (!context) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const foreground = themeColor('--vscode-foreground', '#cccccc');
    context.font = `${themeColor('--vscode-font-size', '12px')} ${themeColor('--vscode-font-family', 'sans-serif')}`;
    context.fillStyle = foreground;

    const event = this.event;
    const rows = event ? event.buckets.reduce((count, layer) => count + layer.length, 0) : 0;
    if (!event || rows === 0) {
      context.globalAlpha = 0.6;
      context.textAlign = 'center';
      context.fillText(this.text.empty, width / 2, height / 2);
      context.globalAlpha = 1;
      this.caption.textContent = '';
      return;
    }

    let maxHits = 0;
    for (const layer of event.buckets) for (const head of layer) for (const hits of head) maxHits = Math.max(maxHits, hits);
    const logMax = Math.log1p(maxHits) || 1;
    const hot = themeColor('--vscode-charts-orange', '#d18616');
    const gap = 4;
    const rowHeight = Math.max(1, (height - gap * (event.buckets.length - 1)) / rows);
    let y = 0;
    event.buckets.forEach((layer, layerIndex) => {
      context.globalAlpha = 0.8;
      context.fillStyle = foreground;
      context.textAlign = 'left';
      context.textBaseline = 'middle';
      context.fillText(this.text.layer(event.layers[layerIndex] ?? layerIndex), 0, y + (layer.length * rowHeight) / 2);
      for (const head of layer) {
        const cellWidth = (width - labelWidth) / Math.max(1, head.length);
        head.forEach((hits, bucket) => {
          context.globalAlpha = hits > 0 ? 0.08 + 0.92 * (Math.log1p(hits) / logMax) : 0.03;
          context.fillStyle = hits > 0 ? hot : foreground;
          context.fillRect(labelWidth + bucket * cellWidth, y, Math.ceil(cellWidth), Math.ceil(rowHeight));
        });
        y += rowHeight;
      }
      y += gap;
    });
    context.globalAlpha = 1;
    this.caption.textContent = this.text.caption(event.step, maxHits);
  }
}

/**
 * Canvas line chart with a step x-axis, an optional log y-axis and an HTML legend. Colors come
 * from VS Code's theme variables, read again on every draw so a theme change shows at once.
 */
import { computeScale, formatTick, normalize, type AxisScale } from './scale';
import type { Points } from '../series';

export interface ChartSeries {
  label: string;
  /** CSS custom property such as `--vscode-charts-blue`. */
  colorVar: string;
  points: Points;
  /** 'points' draws a dot per value, for sparse series such as the eval loss. */
  style?: 'line' | 'points';
  alpha?: number;
  width?: number;
}

export interface LineChartOptions {
  unit?: 'plain' | 'bytes';
  /** Fixed y range, for shares in 0..1. */
  yRange?: [number, number];
  emptyText: string;
}

const padding = { right: 12, top: 10, bottom: 24 };
/** Space between the widest y tick label and the plot. */
const labelGap = 8;

export function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value.length > 0 ? value : fallback;
}

export class LineChart {
  private series: ChartSeries[] = [];
  private log = false;
  private readonly canvas: HTMLCanvasElement;
  private readonly legend: HTMLElement;

  constructor(
    container: HTMLElement,
    private readonly options: LineChartOptions,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.legend = document.createElement('div');
    this.legend.className = 'legend';
    container.append(this.canvas, this.legend);
  }

  update(series: ChartSeries[], log: boolean): void {
    this.series = series;
    this.log = log && this.options.yRange === undefined;
    this.renderLegend();
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
    const gridColor = themeColor('--vscode-editorWidget-border', themeColor('--vscode-panel-border', '#80808050'));
    const font = `${themeColor('--vscode-font-size', '12px')} ${themeColor('--vscode-font-family', 'sans-serif')}`;
    context.font = font;

    const visible = this.series.map((entry) => (this.log ? entry.points.filter((point) => point[1] > 0) : entry.points));
    const all = visible.flat();
    this.canvas.setAttribute('aria-label', this.series.map((entry) => entry.label).join(', '));
    if (all.length === 0) {
      context.fillStyle = foreground;
      context.globalAlpha = 0.6;
      context.textAlign = 'center';
      context.fillText(this.options.emptyText, width / 2, height / 2);
      context.globalAlpha = 1;
      return;
    }

    const xs = all.map((point) => point[0]);
    const ys = all.map((point) => point[1]);
    const xScale = computeScale(Math.min(...xs), Math.max(...xs), false, Math.max(2, Math.floor(width / 90)));
    const yScale: AxisScale = this.options.yRange
      ? computeScale(this.options.yRange[0], this.options.yRange[1], false, 4)
      : computeScale(Math.min(...ys), Math.max(...ys), this.log, Math.max(2, Math.floor(height / 40)));

    const labelWidth = Math.max(...yScale.ticks.map((tick) => context.measureText(formatTick(tick, this.options.unit)).width));
    const left = Math.ceil(labelWidth) + labelGap;
    const plotWidth = width - left - padding.right;
    const plotHeight = height - padding.top - padding.bottom;
    const toX = (value: number) => left + normalize(xScale, value) * plotWidth;
    const toY = (value: number) => padding.top + (1 - normalize(yScale, value)) * plotHeight;

    context.strokeStyle = gridColor;
    context.fillStyle = foreground;
    context.lineWidth = 1;
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    for (const tick of yScale.ticks) {
      const y = Math.round(toY(tick)) + 0.5;
      context.globalAlpha = 0.35;
      context.beginPath();
      context.moveTo(left, y);
      context.lineTo(width - padding.right, y);
      context.stroke();
      context.globalAlpha = 0.8;
      context.fillText(formatTick(tick, this.options.unit), left - 6, y);
    }
    context.textAlign = 'center';
    context.textBaseline = 'top';
    for (const tick of xScale.ticks) {
      context.globalAlpha = 0.8;
      context.fillText(formatTick(tick), toX(tick), height - padding.bottom + 6);
    }
    context.globalAlpha = 1;

    context.save();
    context.beginPath();
    context.rect(left, padding.top, plotWidth, plotHeight);
    context.clip();
    this.series.forEach((entry, index) => {
      const points = visible[index];
      context.strokeStyle = context.fillStyle = themeColor(entry.colorVar, foreground);
      context.globalAlpha = entry.alpha ?? 1;
      context.lineWidth = entry.width ?? 1.5;
      if (entry.style === 'points') {
        for (const [x, y] of points) {
          context.beginPath();
          context.arc(toX(x), toY(y), 2.5, 0, 2 * Math.PI);
          context.fill();
        }
        return;
      }
      context.beginPath();
      points.forEach(([x, y], pointIndex) => {
        if (pointIndex === 0) context.moveTo(toX(x), toY(y));
        else context.lineTo(toX(x), toY(y));
      });
      context.stroke();
    });
    context.restore();
    context.globalAlpha = 1;
  }

  private renderLegend(): void {
    const entries = this.series.filter((entry) => entry.points.length > 0);
    this.legend.replaceChildren(
      ...entries.map((entry) => {
        const item = document.createElement('span');
        item.className = 'legend-item';
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        swatch.style.background = `var(${entry.colorVar})`;
        const last = entry.points[entry.points.length - 1];
        item.append(swatch, `${entry.label}: ${formatTick(last[1], this.options.unit)}`);
        return item;
      }),
    );
  }
}

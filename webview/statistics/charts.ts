/**
 * Canvas charts of the Pack Statistics panel: rank-frequency curves on log-log axes, and a
 * histogram of gate values over [0, 1]. Colors come from VS Code theme variables, read on every
 * draw so that a theme change shows on the next draw.
 */
import { themeColor } from '../charts/lineChart';
import { computeScale, formatTick, normalize, type AxisScale } from '../charts/scale';

export interface CurveSeries {
  /** CSS custom property such as `--vscode-charts-blue`. */
  colorVar: string;
  xs: number[];
  ys: number[];
}

const padding = { left: 48, right: 12, top: 10, bottom: 34 };

interface Frame {
  context: CanvasRenderingContext2D;
  width: number;
  height: number;
  foreground: string;
  grid: string;
}

/** Sizes the canvas for the device pixel ratio and returns its 2D context, or undefined while it is hidden. */
function prepare(canvas: HTMLCanvasElement): Frame | undefined {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return undefined;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext('2d');
  if (!context) return undefined;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  context.font = `${themeColor('--vscode-font-size', '12px')} ${themeColor('--vscode-font-family', 'sans-serif')}`;
  const foreground = themeColor('--vscode-foreground', '#cccccc');
  const grid = themeColor('--vscode-editorWidget-border', themeColor('--vscode-panel-border', '#80808050'));
  return { context, width, height, foreground, grid };
}

/** Draws grid lines and tick labels of both axes, and the axis titles. */
function drawAxes(frame: Frame, xScale: AxisScale, yScale: AxisScale, xTitle: string, yTitle: string, xTickFormat: (tick: number) => string = formatTick): void {
  const { context, width, height } = frame;
  const plotWidth = width - padding.left - padding.right;
  const plotHeight = height - padding.top - padding.bottom;
  context.strokeStyle = frame.grid;
  context.fillStyle = frame.foreground;
  context.lineWidth = 1;

  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (const tick of yScale.ticks) {
    const y = Math.round(padding.top + (1 - normalize(yScale, tick)) * plotHeight) + 0.5;
    context.globalAlpha = 0.35;
    context.beginPath();
    context.moveTo(padding.left, y);
    context.lineTo(width - padding.right, y);
    context.stroke();
    context.globalAlpha = 0.8;
    context.fillText(formatTick(tick), padding.left - 6, y);
  }
  context.textAlign = 'center';
  context.textBaseline = 'top';
  for (const tick of xScale.ticks) {
    const x = padding.left + normalize(xScale, tick) * plotWidth;
    context.globalAlpha = 0.8;
    context.fillText(xTickFormat(tick), x, height - padding.bottom + 4);
  }
  context.globalAlpha = 0.7;
  context.fillText(xTitle, padding.left + plotWidth / 2, height - padding.bottom + 18);
  context.save();
  context.translate(10, padding.top + plotHeight / 2);
  context.rotate(-Math.PI / 2);
  context.textBaseline = 'middle';
  context.fillText(yTitle, 0, 0);
  context.restore();
  context.globalAlpha = 1;
}

/** Rank-frequency curves; ranks and hits must be positive, as the engine's curves are. */
export function drawLogLog(canvas: HTMLCanvasElement, series: CurveSeries[], xTitle: string, yTitle: string): void {
  const frame = prepare(canvas);
  if (!frame) return;
  const xs = series.flatMap((entry) => entry.xs.filter((x) => x > 0));
  const ys = series.flatMap((entry) => entry.ys.filter((y) => y > 0));
  if (xs.length === 0 || ys.length === 0) return;
  const xScale = computeScale(Math.min(...xs), Math.max(...xs), true);
  const yScale = computeScale(Math.min(...ys), Math.max(...ys), true);
  drawAxes(frame, xScale, yScale, xTitle, yTitle);

  const { context, width, height } = frame;
  const plotWidth = width - padding.left - padding.right;
  const plotHeight = height - padding.top - padding.bottom;
  context.save();
  context.beginPath();
  context.rect(padding.left, padding.top, plotWidth, plotHeight);
  context.clip();
  context.lineWidth = 1.2;
  context.globalAlpha = 0.7;
  for (const entry of series) {
    context.strokeStyle = themeColor(entry.colorVar, frame.foreground);
    context.beginPath();
    let started = false;
    entry.xs.forEach((x, index) => {
      const y = entry.ys[index];
      if (!(x > 0 && y > 0)) return;
      const px = padding.left + normalize(xScale, x) * plotWidth;
      const py = padding.top + (1 - normalize(yScale, y)) * plotHeight;
      if (started) context.lineTo(px, py);
      else context.moveTo(px, py);
      started = true;
    });
    context.stroke();
  }
  context.restore();
  context.globalAlpha = 1;
}

/** Bars of `counts` over equal-width bins of [0, 1]. */
export function drawHistogram(canvas: HTMLCanvasElement, counts: number[], colorVar: string, xTitle: string, yTitle: string): void {
  const frame = prepare(canvas);
  if (!frame || counts.length === 0) return;
  const xScale: AxisScale = { min: 0, max: 1, log: false, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const yScale = computeScale(0, Math.max(1, ...counts), false, 4);
  drawAxes(frame, xScale, yScale, xTitle, yTitle, (tick) => String(tick));

  const { context, width, height } = frame;
  const plotWidth = width - padding.left - padding.right;
  const plotHeight = height - padding.top - padding.bottom;
  const barWidth = plotWidth / counts.length;
  context.fillStyle = themeColor(colorVar, frame.foreground);
  counts.forEach((count, bin) => {
    const barHeight = normalize(yScale, count) * plotHeight;
    context.fillRect(padding.left + bin * barWidth + 1, padding.top + plotHeight - barHeight, Math.max(1, barWidth - 2), barHeight);
  });
}

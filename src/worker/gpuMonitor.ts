/**
 * GPU memory samples from `nvidia-smi`, taken while a run trains. On machines without the tool
 * the first call fails and the monitor stays quiet for the rest of the process.
 */
import { execFile } from 'node:child_process';

export interface GpuMemorySample {
  usedBytes: number;
  totalBytes: number;
}

export interface GpuInfo {
  name: string;
  memoryTotalBytes: number;
}

const mebibyte = 1024 * 1024;
const queryTimeoutMs = 5_000;

/** Runs `nvidia-smi` with a CSV query; resolves undefined when the tool is missing or fails. */
function queryNvidiaSmi(fields: string): Promise<string[][] | undefined> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', [`--query-gpu=${fields}`, '--format=csv,noheader,nounits'], { timeout: queryTimeoutMs }, (error, stdout) => {
      if (error) {
        resolve(undefined);
        return;
      }
      const rows = stdout
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.length > 0)
        .map((line) => line.split(',').map((cell) => cell.trim()));
      resolve(rows);
    });
  });
}

/** Lists the GPUs that `nvidia-smi` reports; empty when there is none or no driver. */
export async function listGpus(): Promise<GpuInfo[]> {
  const rows = await queryNvidiaSmi('name,memory.total');
  return (rows ?? []).map(([name, total]) => ({ name: name ?? 'GPU', memoryTotalBytes: Number(total) * mebibyte })).filter((gpu) => Number.isFinite(gpu.memoryTotalBytes));
}

/** Sums used and total memory over all GPUs, in bytes (nvidia-smi reports MiB). */
export function parseMemoryRows(rows: string[][]): GpuMemorySample | undefined {
  let usedBytes = 0;
  let totalBytes = 0;
  for (const [used, total] of rows) {
    const usedMiB = Number(used);
    const totalMiB = Number(total);
    if (!Number.isFinite(usedMiB) || !Number.isFinite(totalMiB)) return undefined;
    usedBytes += usedMiB * mebibyte;
    totalBytes += totalMiB * mebibyte;
  }
  return rows.length > 0 ? { usedBytes, totalBytes } : undefined;
}

export class GpuMonitor {
  private unavailable = false;

  constructor(private readonly intervalMs = 2_000) {}

  /** Starts sampling and returns the function that stops it. */
  start(onSample: (sample: GpuMemorySample) => void): () => void {
    if (this.unavailable) return () => undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      const rows = await queryNvidiaSmi('memory.used,memory.total');
      const sample = rows ? parseMemoryRows(rows) : undefined;
      if (!sample) {
        this.unavailable = true;
        return;
      }
      if (stopped) return;
      onSample(sample);
      timer = setTimeout(() => void tick(), this.intervalMs);
      timer.unref();
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }
}

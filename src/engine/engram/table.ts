/**
 * A (rows, width) float32 matrix kept in host memory, split into shards so that one table can
 * be larger than the largest ArrayBuffer. Engram tables, and their Adam moments, live here;
 * only the rows a batch touches are copied to the backend.
 */
export class ShardedTable {
  readonly shards: Float32Array[] = [];
  readonly rowsPerShard: number;

  constructor(
    readonly rows: number,
    readonly width: number,
    maxShardBytes = 256 * 1024 * 1024,
  ) {
    this.rowsPerShard = Math.max(1, Math.floor(maxShardBytes / (4 * width)));
    for (let start = 0; start < rows; start += this.rowsPerShard) {
      this.shards.push(new Float32Array(Math.min(this.rowsPerShard, rows - start) * width));
    }
  }

  get bytes(): number {
    return this.rows * this.width * 4;
  }

  /** Copies row `row` into `out` at element offset `outOffset`. */
  readRow(row: number, out: Float32Array, outOffset: number): void {
    const shard = this.shards[Math.floor(row / this.rowsPerShard)];
    const start = (row % this.rowsPerShard) * this.width;
    out.set(shard.subarray(start, start + this.width), outOffset);
  }

  /** Returns a live view of one row; writes to it change the table. */
  rowView(row: number): Float32Array {
    const shard = this.shards[Math.floor(row / this.rowsPerShard)];
    const start = (row % this.rowsPerShard) * this.width;
    return shard.subarray(start, start + this.width);
  }

  /** Fills every value from `draw` in row order. */
  fill(draw: () => number): void {
    for (const shard of this.shards) {
      for (let i = 0; i < shard.length; i++) shard[i] = draw();
    }
  }

  /** Copies rows [startRow, startRow + count) into one contiguous array. */
  readRange(startRow: number, count: number): Float32Array {
    const out = new Float32Array(count * this.width);
    for (let i = 0; i < count; i++) this.readRow(startRow + i, out, i * this.width);
    return out;
  }

  /** Writes a contiguous block of rows starting at `startRow`. */
  writeRange(startRow: number, values: Float32Array): void {
    const count = values.length / this.width;
    for (let i = 0; i < count; i++) this.rowView(startRow + i).set(values.subarray(i * this.width, (i + 1) * this.width));
  }
}

export interface SparseAdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * Lazy Adam over table rows: only rows with a gradient are updated, and each row keeps its
 * own moments and update count, so a row's bias correction depends on how often it was hit.
 */
export class SparseAdam {
  readonly firstMoment: ShardedTable;
  readonly secondMoment: ShardedTable;
  readonly rowSteps: Int32Array;

  constructor(readonly table: ShardedTable) {
    this.firstMoment = new ShardedTable(table.rows, table.width);
    this.secondMoment = new ShardedTable(table.rows, table.width);
    this.rowSteps = new Int32Array(table.rows);
  }

  /** Applies one update. `gradients` contains one `width`-wide gradient per entry of `rows`. */
  update(rows: Int32Array, gradients: Float32Array, settings: SparseAdamSettings): void {
    const { width, rowsPerShard } = this.table;
    const { learningRate, beta1, beta2, epsilon } = settings;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const step = ++this.rowSteps[row];
      const correction1 = 1 - Math.pow(beta1, step);
      const correction2 = 1 - Math.pow(beta2, step);
      // Index the shards directly: a subarray per row would allocate three views per row.
      const shard = Math.floor(row / rowsPerShard);
      const weights = this.table.shards[shard];
      const m = this.firstMoment.shards[shard];
      const v = this.secondMoment.shards[shard];
      const start = (row % rowsPerShard) * width;
      const offset = i * width;
      for (let j = 0; j < width; j++) {
        const g = gradients[offset + j];
        const k = start + j;
        m[k] = beta1 * m[k] + (1 - beta1) * g;
        v[k] = beta2 * v[k] + (1 - beta2) * g * g;
        weights[k] -= (learningRate * (m[k] / correction1)) / (Math.sqrt(v[k] / correction2) + epsilon);
      }
    }
  }
}

/**
 * Reader and writer for the safetensors format, plus a loader for the weights of a Hugging Face
 * model folder (`model.safetensors` or a sharded set listed in `model.safetensors.index.json`).
 *
 * File layout: an 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON, then
 * the data section. The JSON maps each tensor name to `{dtype, shape, data_offsets: [begin, end]}`,
 * where the offsets are byte positions inside the data section (end is exclusive), and an optional
 * `__metadata__` key contains a string-to-string map. Values are little-endian and row-major.
 *
 * Opening a file reads only the length prefix and the JSON header, so multi-gigabyte model files
 * cost one small read until a tensor is requested.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { EngramError } from '../errors';

/** Element type names that a safetensors header may use in its `dtype` field. */
export type SafetensorsDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'U16'
  | 'I16'
  | 'U32'
  | 'I32'
  | 'U64'
  | 'I64'
  | 'F16'
  | 'BF16'
  | 'F32'
  | 'F64'
  | 'C64'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'F8_E8M0'
  | 'F6_E2M3'
  | 'F6_E3M2'
  | 'F4';

/**
 * Bits per element of each dtype. F4 and F6 values are packed, so for those types the element
 * count times the bit width must be a whole number of bytes.
 */
const dtypeBits: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  U16: 16,
  I16: 16,
  U32: 32,
  I32: 32,
  U64: 64,
  I64: 64,
  F16: 16,
  BF16: 16,
  F32: 32,
  F64: 64,
  C64: 64,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F6_E2M3: 6,
  F6_E3M2: 6,
  F4: 4,
};

/** Dtypes that `readFloat32` converts to float32 without rounding. */
const float32ReadableDTypes: readonly SafetensorsDType[] = ['F32', 'F16', 'BF16'];

/** Location and type of one tensor inside a safetensors file. */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte offset of the first byte inside the data section (not the file). */
  begin: number;
  /** Byte offset one past the last byte inside the data section. */
  end: number;
}

/** Input tensor for `writeSafetensors` and `encodeSafetensors`, stored as F32. */
export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Largest accepted JSON header, in bytes. Hugging Face's Rust `safetensors` crate rejects larger headers too (`MAX_HEADER_SIZE`). */
export const maxHeaderBytes = 100_000_000;

const metadataKey = '__metadata__';
const corruptFileHint = 'The file is damaged or is not a safetensors file, so re-download the model or export the weights again.';
const littleEndianHost = endianness() === 'LE';

/** Largest single readSync/writeSync request. The I/O loops also accept shorter transfers than requested. */
const maxIoChunkBytes = 1 << 30;
/** Raw bytes read at a time when converting F16 or BF16 tensors, so peak memory stays near the output size. */
const conversionChunkBytes = 1 << 24;

// ---------------------------------------------------------------------------------------------
// Header parsing
// ---------------------------------------------------------------------------------------------

function invalidFile(path: string, problem: string): EngramError {
  return new EngramError('invalid-safetensors', `Invalid safetensors file ${path}: ${problem}. ${corruptFileHint}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSafetensorsDType(value: string): value is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(dtypeBits, value);
}

function describeJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Returns the number of elements of `shape`, or undefined if it exceeds Number.MAX_SAFE_INTEGER. */
function elementCount(shape: readonly number[]): number | undefined {
  let count = 1;
  for (const dim of shape) {
    count *= dim;
    if (!Number.isSafeInteger(count)) return undefined;
  }
  return count;
}

function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseTensorEntry(path: string, name: string, entry: unknown, dataLength: number): TensorInfo {
  const where = `tensor "${name}"`;
  if (!isPlainObject(entry)) {
    throw invalidFile(path, `${where} has header entry ${describeJson(entry)}, but expected an object with dtype, shape and data_offsets`);
  }

  const { dtype, shape, data_offsets: offsets } = entry;
  if (dtype === undefined || shape === undefined || offsets === undefined) {
    const missing = ['dtype', 'shape', 'data_offsets'].filter((key) => entry[key] === undefined);
    throw invalidFile(path, `${where} is missing ${missing.join(', ')} in its header entry ${describeJson(entry)}`);
  }

  if (typeof dtype !== 'string' || !isSafetensorsDType(dtype)) {
    throw invalidFile(path, `${where} has unknown dtype ${describeJson(dtype)}, but expected one of ${Object.keys(dtypeBits).join(', ')}`);
  }

  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
    throw invalidFile(path, `${where} has shape ${describeJson(shape)}, but expected an array of non-negative integers`);
  }

  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeSafeInteger)) {
    throw invalidFile(path, `${where} has data_offsets ${describeJson(offsets)}, but expected [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw invalidFile(path, `${where} has data_offsets [${begin}, ${end}], but begin must not exceed end`);
  }
  if (end > dataLength) {
    throw invalidFile(
      path,
      `${where} has data_offsets [${begin}, ${end}], which end past the ${dataLength}-byte data section (the file may be truncated)`,
    );
  }

  const count = elementCount(shape);
  const bits = dtypeBits[dtype];
  if (count === undefined || !Number.isSafeInteger(count * bits)) {
    throw invalidFile(path, `${where} has shape ${describeJson(shape)}, whose element count is too large`);
  }
  if ((count * bits) % 8 !== 0) {
    throw invalidFile(path, `${where} has ${count} ${dtype} elements, which do not fill a whole number of bytes`);
  }
  const expectedBytes = (count * bits) / 8;
  if (end - begin !== expectedBytes) {
    throw invalidFile(
      path,
      `${where} has ${end - begin} bytes in data_offsets [${begin}, ${end}], but shape ${describeJson(shape)} of ${dtype} needs ${expectedBytes}`,
    );
  }

  return { name, dtype, shape: [...shape], begin, end };
}

function parseMetadata(path: string, value: unknown): Record<string, string> {
  if (!isPlainObject(value)) {
    throw invalidFile(path, `${metadataKey} is ${describeJson(value)}, but expected an object of string values`);
  }
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw invalidFile(path, `${metadataKey} key "${key}" has value ${describeJson(item)}, but expected a string`);
    }
    metadata[key] = item;
  }
  return metadata;
}

/** Rejects any two non-empty tensors whose byte ranges share a byte. Gaps between tensors are allowed. */
function checkNoOverlap(path: string, tensors: Iterable<TensorInfo>): void {
  const ranges = [...tensors].filter((info) => info.end > info.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1];
    const current = ranges[i];
    if (current.begin < previous.end) {
      throw invalidFile(
        path,
        `tensor "${current.name}" (bytes ${current.begin}-${current.end}) overlaps tensor "${previous.name}" (bytes ${previous.begin}-${previous.end})`,
      );
    }
  }
}

interface ParsedHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/**
 * Parses and validates a JSON header against a data section of `dataLength` bytes.
 * NOTE: JSON.parse keeps the last of duplicate keys, so a header that repeats a tensor name is
 * not detected here.
 */
function parseHeader(path: string, headerBytes: Uint8Array, dataLength: number): ParsedHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw invalidFile(path, `the ${headerBytes.length}-byte header is not valid UTF-8`);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidFile(path, `the header is not valid JSON (${reason}). It starts with ${describeJson(text.slice(0, 40))}`);
  }
  if (!isPlainObject(json)) {
    throw invalidFile(path, `the header is ${describeJson(json)}, but expected a JSON object`);
  }

  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(json)) {
    if (name === metadataKey) {
      metadata = parseMetadata(path, entry);
    } else {
      tensors.set(name, parseTensorEntry(path, name, entry, dataLength));
    }
  }
  checkNoOverlap(path, tensors.values());
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------
// Low-level I/O
// ---------------------------------------------------------------------------------------------

/** Fills `target` from `fd` starting at file byte `position`, rejecting a file that ends early. */
function readExactly(fd: number, path: string, target: Uint8Array, position: number): void {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(target.byteLength - done, maxIoChunkBytes);
    const bytesRead = readSync(fd, target, done, length, position + done);
    if (bytesRead === 0) {
      throw invalidFile(
        path,
        `the file ends at byte ${position + done}, but ${target.byteLength - done} more bytes were expected there (it may be truncated or have changed since it was opened)`,
      );
    }
    done += bytesRead;
  }
}

function writeExactly(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(bytes.byteLength - done, maxIoChunkBytes);
    done += writeSync(fd, bytes, done, length);
  }
}

function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

// ---------------------------------------------------------------------------------------------
// F16 and BF16 conversion
// ---------------------------------------------------------------------------------------------

/** Returns the float32 bit pattern of an IEEE 754 binary16 value. Every binary16 value is exact in float32. */
function float16BitsToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  let mantissa = half & 0x3ff;

  if (exponent === 0x1f) {
    // Infinity (mantissa 0) or NaN. The mantissa keeps its payload and quiet bit.
    return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  }
  if (exponent !== 0) {
    // Normal: rebias the exponent from 15 to 127.
    return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  }
  if (mantissa === 0) {
    return sign >>> 0;
  }

  // Subnormal binary16 (mantissa × 2^-24) is a normal float32. Shift the leading 1 into the
  // implicit-bit position, lowering the exponent by one per shift, starting from 2^-14 (bias 113).
  let float32Exponent = 113;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    float32Exponent -= 1;
  }
  return (sign | (float32Exponent << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

let float16Table: Uint32Array | undefined;

/** Returns the float32 bit patterns of all 65,536 binary16 codes, built on first use (256 KiB). */
function float16ToFloat32BitsTable(): Uint32Array {
  if (float16Table === undefined) {
    float16Table = new Uint32Array(0x10000);
    for (let half = 0; half < 0x10000; half++) {
      float16Table[half] = float16BitsToFloat32Bits(half);
    }
  }
  return float16Table;
}

// ---------------------------------------------------------------------------------------------
// SafetensorsFile
// ---------------------------------------------------------------------------------------------

/** An open safetensors file whose header is parsed and validated; tensor data is read on request. */
export class SafetensorsFile {
  /** Byte position of the data section in the file: 8 plus the header length. */
  readonly dataStart: number;

  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    readonly fileSize: number,
    headerLength: number,
    private readonly tensors: ReadonlyMap<string, TensorInfo>,
    /** The `__metadata__` map, or an empty object when the header has none. */
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.fd = fd;
    this.dataStart = 8 + headerLength;
  }

  /** Opens `path` and validates its header. Throws EngramError 'not-found' or 'invalid-safetensors'. */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) {
        throw new EngramError('not-found', `Safetensors file not found: ${path}. Check the model folder, or download the model again.`);
      }
      throw error;
    }

    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) {
        throw invalidFile(path, 'the path is not a regular file');
      }
      const fileSize = stats.size;
      if (fileSize < 8) {
        throw invalidFile(path, `the file is ${fileSize} bytes long, shorter than the 8-byte header length prefix`);
      }

      const prefix = new Uint8Array(8);
      readExactly(fd, path, prefix, 0);
      const headerLength = Buffer.from(prefix.buffer).readBigUInt64LE(0);
      if (headerLength > BigInt(maxHeaderBytes)) {
        throw invalidFile(path, `the header length prefix is ${headerLength} bytes, above the ${maxHeaderBytes}-byte limit`);
      }
      const headerBytesLength = Number(headerLength);
      if (8 + headerBytesLength > fileSize) {
        throw invalidFile(
          path,
          `the header length prefix is ${headerBytesLength} bytes, but the file has only ${fileSize - 8} bytes after the prefix`,
        );
      }

      const headerBytes = new Uint8Array(headerBytesLength);
      readExactly(fd, path, headerBytes, 8);
      const dataLength = fileSize - 8 - headerBytesLength;
      const { tensors, metadata } = parseHeader(path, headerBytes, dataLength);
      return new SafetensorsFile(path, fd, fileSize, headerBytesLength, tensors, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Returns the tensor names, sorted. */
  tensorNames(): string[] {
    return [...this.tensors.keys()].sort();
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** Returns a copy of the tensor's header entry. Throws EngramError 'not-found' for an unknown name. */
  info(name: string): TensorInfo {
    const info = this.requireInfo(name);
    return { ...info, shape: [...info.shape] };
  }

  /** Reads the tensor's raw little-endian bytes. */
  readBytes(name: string): Buffer {
    const info = this.requireInfo(name);
    const bytes = Buffer.alloc(info.end - info.begin);
    readExactly(this.requireOpen(), this.path, bytes, this.dataStart + info.begin);
    return bytes;
  }

  /**
   * Reads an F32, F16 or BF16 tensor as float32 values in row-major order. The F16 and BF16
   * conversions are exact. Other dtypes throw EngramError 'invalid-model'.
   */
  readFloat32(name: string): Float32Array {
    const info = this.requireInfo(name);
    const dtype = info.dtype;
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
      throw new EngramError(
        'invalid-model',
        `Tensor "${name}" in ${this.path} has dtype ${dtype}, but only ${float32ReadableDTypes.join(', ')} tensors can be read as float32. ` +
          'Use a copy of the model whose weights are stored as float32, float16 or bfloat16.',
      );
    }

    const fd = this.requireOpen();
    const position = this.dataStart + info.begin;
    const output = new Float32Array((info.end - info.begin) / (dtypeBits[dtype] / 8));
    if (dtype === 'F32') {
      this.readFloat32Data(fd, output, position);
    } else {
      this.readHalfWidthData(fd, output, position, dtype);
    }
    return output;
  }

  /** Releases the file descriptor. Calling it again does nothing; reads after it throw. */
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private requireInfo(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (info === undefined) {
      throw new EngramError(
        'not-found',
        `Tensor "${name}" not found in ${this.path}, which has ${this.tensors.size} tensors. Check the name against tensorNames().`,
      );
    }
    return info;
  }

  private requireOpen(): number {
    if (this.fd === undefined) {
      throw new Error(`Safetensors file ${this.path} is closed; open it again before reading tensors.`);
    }
    return this.fd;
  }

  private readFloat32Data(fd: number, output: Float32Array, position: number): void {
    const bytes = new Uint8Array(output.buffer, output.byteOffset, output.byteLength);
    readExactly(fd, this.path, bytes, position);
    if (!littleEndianHost) {
      Buffer.from(output.buffer, output.byteOffset, output.byteLength).swap32();
    }
  }

  /** Converts F16 or BF16 data chunk by chunk, writing float32 bit patterns into `output`. */
  private readHalfWidthData(fd: number, output: Float32Array, position: number, dtype: 'F16' | 'BF16'): void {
    const outputBits = new Uint32Array(output.buffer, output.byteOffset, output.length);
    const table = dtype === 'F16' ? float16ToFloat32BitsTable() : undefined;
    const totalBytes = output.length * 2;
    const chunk = new Uint8Array(Math.min(totalBytes, conversionChunkBytes));
    const view = new DataView(chunk.buffer);

    for (let done = 0; done < totalBytes; done += chunk.length) {
      const bytes = chunk.subarray(0, Math.min(chunk.length, totalBytes - done));
      readExactly(fd, this.path, bytes, position + done);
      const firstElement = done / 2;
      const elements = bytes.length / 2;
      if (table !== undefined) {
        for (let i = 0; i < elements; i++) {
          outputBits[firstElement + i] = table[view.getUint16(2 * i, true)];
        }
      } else {
        // BF16 is the upper half of a float32, so shifting the bits up is exact.
        for (let i = 0; i < elements; i++) {
          outputBits[firstElement + i] = view.getUint16(2 * i, true) << 16;
        }
      }
    }
  }
}

/** Opens a safetensors file; same as `SafetensorsFile.open`. */
export function openSafetensors(path: string): SafetensorsFile {
  return SafetensorsFile.open(path);
}

// ---------------------------------------------------------------------------------------------
// Model folders
// ---------------------------------------------------------------------------------------------

/** The weights of one model folder, whether stored in one file or in shards. */
export interface ModelWeights {
  readonly modelDir: string;
  /** Paths of the safetensors files that contain the weights. */
  readonly files: readonly string[];
  has(name: string): boolean;
  /** Returns the tensor names, sorted. */
  names(): string[];
  shape(name: string): number[];
  info(name: string): TensorInfo;
  readFloat32(name: string): Float32Array;
  close(): void;
}

export const singleWeightsFileName = 'model.safetensors';
export const weightsIndexFileName = 'model.safetensors.index.json';

class SafetensorsModelWeights implements ModelWeights {
  readonly files: readonly string[];

  constructor(
    readonly modelDir: string,
    private readonly shards: readonly SafetensorsFile[],
    private readonly fileByTensor: ReadonlyMap<string, SafetensorsFile>,
  ) {
    this.files = shards.map((shard) => shard.path);
  }

  has(name: string): boolean {
    return this.fileByTensor.has(name);
  }

  names(): string[] {
    return [...this.fileByTensor.keys()].sort();
  }

  shape(name: string): number[] {
    return this.fileFor(name).info(name).shape;
  }

  info(name: string): TensorInfo {
    return this.fileFor(name).info(name);
  }

  readFloat32(name: string): Float32Array {
    return this.fileFor(name).readFloat32(name);
  }

  close(): void {
    for (const shard of this.shards) shard.close();
  }

  private fileFor(name: string): SafetensorsFile {
    const file = this.fileByTensor.get(name);
    if (file === undefined) {
      throw new EngramError(
        'not-found',
        `Tensor "${name}" not found in the weights of ${this.modelDir}, which have ${this.fileByTensor.size} tensors. ` +
          'Check that the folder holds a model of the expected architecture.',
      );
    }
    return file;
  }
}

/**
 * Opens the weights of a Hugging Face model folder. `model.safetensors` is used when present,
 * otherwise `model.safetensors.index.json` and the shards its `weight_map` names. Every shard
 * header is read and validated here, and each mapped tensor must exist in its shard.
 */
export function openModelWeights(modelDir: string): ModelWeights {
  const singlePath = join(modelDir, singleWeightsFileName);
  const indexPath = join(modelDir, weightsIndexFileName);

  if (existsSync(singlePath)) {
    const file = SafetensorsFile.open(singlePath);
    const fileByTensor = new Map(file.tensorNames().map((name) => [name, file] as const));
    return new SafetensorsModelWeights(modelDir, [file], fileByTensor);
  }
  if (existsSync(indexPath)) {
    return openShardedWeights(modelDir, indexPath);
  }

  const pytorchHint = existsSync(join(modelDir, 'pytorch_model.bin'))
    ? ' The folder has pytorch_model.bin, which is not supported; convert it to safetensors or download the safetensors version.'
    : ' Download the model with its safetensors weights.';
  throw new EngramError(
    'not-found',
    `No model weights found in ${modelDir}: looked for ${singleWeightsFileName} and ${weightsIndexFileName}.${pytorchHint}`,
  );
}

/** Reads `weight_map` from an index file: tensor name to shard file name. */
function readWeightMap(indexPath: string): Map<string, string> {
  const invalidIndex = (problem: string) =>
    new EngramError('invalid-model', `Invalid weights index ${indexPath}: ${problem}. Re-download the model.`);

  let json: unknown;
  try {
    json = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidIndex(`the file is not valid JSON (${reason})`);
  }
  if (!isPlainObject(json) || !isPlainObject(json.weight_map)) {
    throw invalidIndex(`expected a JSON object with a "weight_map" object, found ${describeJson(json)}`);
  }

  const weightMap = new Map<string, string>();
  for (const [tensorName, shardName] of Object.entries(json.weight_map)) {
    // Shard names must be bare file names, so an index cannot point outside the model folder.
    if (typeof shardName !== 'string' || shardName === '' || shardName === '.' || shardName === '..' || /[\\/]/.test(shardName)) {
      throw invalidIndex(`tensor "${tensorName}" maps to ${describeJson(shardName)}, but expected a file name in the same folder`);
    }
    weightMap.set(tensorName, shardName);
  }
  if (weightMap.size === 0) {
    throw invalidIndex('"weight_map" lists no tensors');
  }
  return weightMap;
}

function openShardedWeights(modelDir: string, indexPath: string): ModelWeights {
  const weightMap = readWeightMap(indexPath);
  const shardNames = [...new Set(weightMap.values())].sort();

  const missingShards = shardNames.filter((shardName) => !existsSync(join(modelDir, shardName)));
  if (missingShards.length > 0) {
    throw new EngramError(
      'not-found',
      `${indexPath} lists ${shardNames.length} shard files, but ${missingShards.length} are missing from ${modelDir}: ` +
        `${missingShards.join(', ')}. Download the missing shards or re-download the model.`,
    );
  }

  const shards: SafetensorsFile[] = [];
  try {
    const shardByName = new Map<string, SafetensorsFile>();
    for (const shardName of shardNames) {
      const shard = SafetensorsFile.open(join(modelDir, shardName));
      shards.push(shard);
      shardByName.set(shardName, shard);
    }

    const fileByTensor = new Map<string, SafetensorsFile>();
    const absent: string[] = [];
    for (const [tensorName, shardName] of weightMap) {
      const shard = shardByName.get(shardName) as SafetensorsFile;
      if (shard.has(tensorName)) {
        fileByTensor.set(tensorName, shard);
      } else {
        absent.push(`"${tensorName}" (in ${shardName})`);
      }
    }
    if (absent.length > 0) {
      const listed = absent.slice(0, 5).join(', ') + (absent.length > 5 ? `, and ${absent.length - 5} more` : '');
      throw new EngramError(
        'invalid-model',
        `${indexPath} maps ${absent.length} tensors to shards that do not contain them: ${listed}. ` +
          'The index and shards come from different downloads; re-download the model.',
      );
    }

    return new SafetensorsModelWeights(modelDir, shards, fileByTensor);
  } catch (error) {
    for (const shard of shards) shard.close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function invalidTensorInput(problem: string): EngramError {
  return new EngramError('invalid-argument', `Cannot write safetensors: ${problem}.`);
}

interface EncodedHeader {
  /** The 8-byte length prefix followed by the space-padded JSON header. */
  prefixAndHeader: Buffer;
  /** Tensors in the order of their data, which is the header order. */
  ordered: TensorToWrite[];
  dataLength: number;
}

/**
 * Builds the header for F32 tensors sorted by the UTF-8 bytes of their names, with data stored
 * back to back in that order. The JSON is written by hand because a JS object would move
 * integer-like keys such as "0" to the front.
 */
function encodeHeader(tensors: readonly TensorToWrite[], metadata: Readonly<Record<string, string>> | undefined): EncodedHeader {
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (tensor.name === metadataKey) {
      throw invalidTensorInput(`"${metadataKey}" is reserved and cannot be a tensor name`);
    }
    if (seen.has(tensor.name)) {
      throw invalidTensorInput(`tensor name "${tensor.name}" appears more than once`);
    }
    seen.add(tensor.name);
    if (!tensor.shape.every(isNonNegativeSafeInteger)) {
      throw invalidTensorInput(`tensor "${tensor.name}" has shape ${describeJson(tensor.shape)}, but expected non-negative integers`);
    }
    const count = elementCount(tensor.shape);
    if (count !== tensor.data.length) {
      throw invalidTensorInput(
        `tensor "${tensor.name}" has ${tensor.data.length} values, but shape ${describeJson(tensor.shape)} needs ${count ?? 'too many'}`,
      );
    }
  }

  const members: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    for (const key of keys) {
      if (typeof metadata[key] !== 'string') {
        throw invalidTensorInput(`metadata key "${key}" has value ${describeJson(metadata[key])}, but expected a string`);
      }
    }
    const entries = keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(metadata[key])}`);
    members.push(`${JSON.stringify(metadataKey)}:{${entries.join(',')}}`);
  }

  const ordered = [...tensors].sort((a, b) => compareUtf8(a.name, b.name));
  let offset = 0;
  for (const tensor of ordered) {
    const end = offset + tensor.data.byteLength;
    const entry = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, end] };
    members.push(`${JSON.stringify(tensor.name)}:${JSON.stringify(entry)}`);
    offset = end;
  }

  const json = Buffer.from(`{${members.join(',')}}`, 'utf8');
  const paddedLength = Math.ceil(json.length / 8) * 8;
  const prefixAndHeader = Buffer.alloc(8 + paddedLength, 0x20);
  prefixAndHeader.writeBigUInt64LE(BigInt(paddedLength), 0);
  json.copy(prefixAndHeader, 8);
  return { prefixAndHeader, ordered, dataLength: offset };
}

/** Returns a tensor's values as little-endian bytes, without copying on little-endian hosts. */
function float32LittleEndianBytes(data: Float32Array): Buffer {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return littleEndianHost ? view : Buffer.from(view).swap32();
}

/** Encodes F32 tensors as a complete safetensors file in memory, in the same layout as `writeSafetensors`. */
export function encodeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Buffer {
  const { prefixAndHeader, ordered, dataLength } = encodeHeader(tensors, metadata);
  const output = Buffer.alloc(prefixAndHeader.length + dataLength);
  prefixAndHeader.copy(output, 0);
  let position = prefixAndHeader.length;
  for (const tensor of ordered) {
    position += float32LittleEndianBytes(tensor.data).copy(output, position);
  }
  return output;
}

/**
 * Writes F32 tensors to `path` as safetensors. The data goes to a temporary file in the same
 * folder, which is fsynced and then renamed over `path`, so readers see the old file or the
 * complete new one. Tensor names are sorted and the header is padded with spaces to a multiple
 * of 8 bytes, so the data section starts 8-byte aligned.
 */
export function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): void {
  const { prefixAndHeader, ordered } = encodeHeader(tensors, metadata);
  const folder = dirname(path);
  const temporaryPath = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);

  let fd: number | undefined = openSync(temporaryPath, 'wx');
  try {
    writeExactly(fd, prefixAndHeader);
    for (const tensor of ordered) {
      writeExactly(fd, float32LittleEndianBytes(tensor.data));
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporaryPath, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temporaryPath);
    } catch {
      // The temporary file may already be gone; the original error is the one to report.
    }
    throw error;
  }

  syncDirectory(folder);
}

/**
 * Flushes the rename to disk.
 * NOTE: untested on Windows, where opening a folder is expected to fail, so there the rename is not flushed.
 */
function syncDirectory(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Skipped where the platform does not support fsync on a folder.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

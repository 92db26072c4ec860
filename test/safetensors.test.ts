import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { EngramError, EngramErrorCode } from '../src/engine/errors';
import {
  encodeSafetensors,
  maxHeaderBytes,
  openModelWeights,
  openSafetensors,
  SafetensorsFile,
  TensorToWrite,
  writeSafetensors,
} from '../src/engine/model/safetensors';
import { sharedDir, storiesModelDir, tinyRandomLlamaDir } from './helpers/paths';

const storiesFile = join(storiesModelDir, 'model.safetensors');
const tinyRandomFile = join(tinyRandomLlamaDir, 'model.safetensors');
/** The llama2.c checkpoint that stories260K-hf was converted from. */
const storiesLlama2cFile = resolve(sharedDir, 'fixtures/models/stories260K/stories260K.bin');

function withTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'engram-safetensors-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds file bytes from a header (object or raw JSON text) and a data section, with the length prefix. */
function rawSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0)): Buffer {
  const headerBytes = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));
  return Buffer.concat([prefix, headerBytes, data]);
}

function withPrefix(prefixValue: bigint, rest: Uint8Array): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(prefixValue);
  return Buffer.concat([prefix, rest]);
}

function assertEngramError(action: () => unknown, code: EngramErrorCode, pattern: RegExp): EngramError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof EngramError, `expected an EngramError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

function product(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

function readAllTensors(file: SafetensorsFile): TensorToWrite[] {
  return file.tensorNames().map((name) => ({ name, shape: file.info(name).shape, data: file.readFloat32(name) }));
}

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/** Decodes IEEE 754 binary16 by its definition, as an independent reference for the reader. */
function decodeFloat16(code: number): number {
  const sign = code & 0x8000 ? -1 : 1;
  const exponent = (code >> 10) & 0x1f;
  const mantissa = code & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * Math.pow(2, -24);
  return sign * (1 + mantissa / 1024) * Math.pow(2, exponent - 15);
}

/** Decodes bfloat16 (1 sign, 8 exponent, 7 mantissa bits) by its definition. */
function decodeBfloat16(code: number): number {
  const sign = code & 0x8000 ? -1 : 1;
  const exponent = (code >> 7) & 0xff;
  const mantissa = code & 0x7f;
  if (exponent === 0xff) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * (mantissa / 128) * Math.pow(2, -126);
  return sign * (1 + mantissa / 128) * Math.pow(2, exponent - 127);
}

function sameFloat(actual: number, expected: number): boolean {
  return Number.isNaN(expected) ? Number.isNaN(actual) : Object.is(actual, expected);
}

function halfWidthFile(dtype: 'F16' | 'BF16', codes: readonly number[] | Uint16Array): Buffer {
  const data = Buffer.alloc(codes.length * 2);
  codes.forEach((code, i) => data.writeUInt16LE(code, 2 * i));
  return rawSafetensors({ values: { dtype, shape: [codes.length], data_offsets: [0, data.length] } }, data);
}

describe('SafetensorsFile on fixture models', () => {
  test('stories260K tensor names and counts', () => {
    const file = openSafetensors(storiesFile);
    try {
      const names = file.tensorNames();
      assert.equal(names.length, 47);
      const totalValues = names.reduce((sum, name) => sum + product(file.info(name).shape), 0);
      assert.equal(totalValues, 260_032);
      assert.ok(!file.has('lm_head.weight'), 'stories260K ties its embeddings, so it has no lm_head');
      assert.deepEqual(file.info('model.embed_tokens.weight').shape, [512, 64]);
      assert.deepEqual(file.info('model.layers.0.self_attn.k_proj.weight').shape, [32, 64]);
      assert.deepEqual(file.metadata, { format: 'pt' });
      for (const name of names) {
        assert.equal(file.info(name).dtype, 'F32', name);
        assert.equal(file.readFloat32(name).length, product(file.info(name).shape), name);
      }
    } finally {
      file.close();
    }
  });

  test('stories260K values match llama2.c checkpoint', () => {
    // stories260K.bin: 7 int32 config values, then float32 arrays in the order token embedding,
    // rms_att (layers × dim), wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final.
    const checkpoint = readFileSync(storiesLlama2cFile);
    const config = [0, 1, 2, 3, 4, 5, 6].map((i) => checkpoint.readInt32LE(4 * i));
    const [dim, hiddenDim, layers, heads, kvHeads, vocab] = config;
    assert.deepEqual([dim, hiddenDim, layers, heads, kvHeads, vocab], [64, 172, 5, 8, 4, 512]);
    const kvDim = (dim * kvHeads) / heads;
    const floatsAt = (floatOffset: number, count: number) =>
      Float32Array.from({ length: count }, (_, i) => checkpoint.readFloatLE(28 + 4 * (floatOffset + i)));

    const embeddingOffset = 0;
    const rmsAttentionOffset = vocab * dim;
    const rmsFinalOffset =
      rmsAttentionOffset +
      layers * dim + // rms_att
      layers * dim * dim * 2 + // wq, wo
      layers * kvDim * dim * 2 + // wk, wv
      layers * dim + // rms_ffn
      layers * hiddenDim * dim * 3; // w1, w2, w3

    const file = openSafetensors(storiesFile);
    try {
      assert.deepEqual(file.readFloat32('model.embed_tokens.weight'), floatsAt(embeddingOffset, vocab * dim));
      assert.deepEqual(file.readFloat32('model.layers.0.input_layernorm.weight'), floatsAt(rmsAttentionOffset, dim));
      assert.deepEqual(file.readFloat32('model.layers.4.input_layernorm.weight'), floatsAt(rmsAttentionOffset + 4 * dim, dim));
      assert.deepEqual(file.readFloat32('model.norm.weight'), floatsAt(rmsFinalOffset, dim));
    } finally {
      file.close();
    }
  });

  test('stories260K re-encodes to identical bytes', () => {
    const original = readFileSync(storiesFile);
    const file = openSafetensors(storiesFile);
    let tensors: TensorToWrite[];
    try {
      tensors = readAllTensors(file);
    } finally {
      file.close();
    }

    const encoded = encodeSafetensors(tensors, { format: 'pt' });
    assert.equal(encoded.length, original.length);
    assert.ok(encoded.equals(original), 'encodeSafetensors output differs from the fixture bytes');

    withTempDir((dir) => {
      const path = join(dir, 'copy.safetensors');
      writeSafetensors(path, tensors, { format: 'pt' });
      assert.ok(readFileSync(path).equals(original), 'writeSafetensors output differs from the fixture bytes');
    });
  });

  test('tiny-random-llama has untied lm_head', () => {
    const file = openSafetensors(tinyRandomFile);
    try {
      const names = file.tensorNames();
      assert.equal(names.length, 21);
      const totalValues = names.reduce((sum, name) => sum + product(file.info(name).shape), 0);
      assert.equal(totalValues, 1_032_272);
      assert.deepEqual(file.info('lm_head.weight').shape, [32000, 16]);
      assert.deepEqual(file.info('model.embed_tokens.weight').shape, [32000, 16]);
      assert.equal(file.dataStart, 8 + 2184);

      const head = file.readFloat32('lm_head.weight');
      const embedding = file.readFloat32('model.embed_tokens.weight');
      assert.equal(head.length, 512_000);
      assert.notDeepEqual(head, embedding);

      // Compare one tensor against floats decoded straight from the file bytes.
      const bytes = readFileSync(tinyRandomFile);
      const info = file.info('model.layers.1.mlp.down_proj.weight');
      const expected = Float32Array.from({ length: product(info.shape) }, (_, i) =>
        bytes.readFloatLE(file.dataStart + info.begin + 4 * i),
      );
      assert.deepEqual(file.readFloat32(info.name), expected);
      assert.deepEqual(file.readBytes(info.name), bytes.subarray(file.dataStart + info.begin, file.dataStart + info.end));
    } finally {
      file.close();
    }
  });

  test('openModelWeights on fixture folders', () => {
    const stories = openModelWeights(storiesModelDir);
    try {
      assert.equal(stories.names().length, 47);
      assert.ok(stories.has('model.norm.weight'));
      assert.ok(!stories.has('lm_head.weight'));
      assert.deepEqual(stories.shape('model.layers.0.mlp.gate_proj.weight'), [172, 64]);
      assert.equal(stories.readFloat32('model.embed_tokens.weight').length, 512 * 64);
      assert.deepEqual(stories.files, [storiesFile]);
      assertEngramError(() => stories.readFloat32('lm_head.weight'), 'not-found', /"lm_head\.weight" not found/);
    } finally {
      stories.close();
    }

    const tiny = openModelWeights(tinyRandomLlamaDir);
    try {
      assert.ok(tiny.has('lm_head.weight'));
      assert.equal(tiny.info('lm_head.weight').dtype, 'F32');
    } finally {
      tiny.close();
    }
  });
});

describe('writeSafetensors', () => {
  const specialValues = Float32Array.from([0, -0, 1, -2.5, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, Math.PI]);
  const tensors: TensorToWrite[] = [
    { name: 'b', shape: [2, 5], data: specialValues },
    { name: '10', shape: [], data: Float32Array.from([7]) },
    { name: '0', shape: [3], data: Float32Array.from([1, 2, 3]) },
    { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
    { name: 'größe', shape: [1, 1], data: Float32Array.from([-1]) },
  ];

  test('round trip keeps values bit for bit', () => {
    withTempDir((dir) => {
      const path = join(dir, 'roundtrip.safetensors');
      writeSafetensors(path, tensors, { format: 'pt', note: 'round trip' });

      const bytes = readFileSync(path);
      assert.ok(bytes.equals(encodeSafetensors(tensors, { format: 'pt', note: 'round trip' })));
      assert.deepEqual(readdirSync(dir), ['roundtrip.safetensors'], 'the temporary file must be renamed away');

      const file = openSafetensors(path);
      try {
        assert.deepEqual(file.metadata, { format: 'pt', note: 'round trip' });
        assert.deepEqual(file.tensorNames(), ['0', '10', 'b', 'empty', 'größe']);
        for (const tensor of tensors) {
          const info = file.info(tensor.name);
          assert.equal(info.dtype, 'F32');
          assert.deepEqual(info.shape, tensor.shape);
          assert.deepEqual(bitsOf(file.readFloat32(tensor.name)), bitsOf(tensor.data), tensor.name);
        }
      } finally {
        file.close();
      }
    });
  });

  test('header is sorted and padded to 8 bytes', () => {
    const bytes = encodeSafetensors(tensors);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0);
    const headerText = bytes.subarray(8, 8 + headerLength).toString('utf8');
    assert.match(headerText, /^\{.*\} *$/);

    const header = JSON.parse(headerText) as Record<string, { data_offsets: [number, number] }>;
    assert.ok(!('__metadata__' in header), 'no metadata was given');
    // Offsets follow the sorted name order. Key order of the parsed object cannot show this, because JS lists "0" and "10" first.
    assert.ok(headerText.indexOf('"0"') < headerText.indexOf('"10"'));
    assert.ok(headerText.indexOf('"10"') < headerText.indexOf('"b"'));
    assert.deepEqual(header['0'].data_offsets, [0, 12]);
    assert.deepEqual(header['10'].data_offsets, [12, 16]);
    assert.deepEqual(header['b'].data_offsets, [16, 56]);
    assert.deepEqual(header['empty'].data_offsets, [56, 56]);
    assert.deepEqual(header['größe'].data_offsets, [56, 60]);
    assert.equal(bytes.length, 8 + headerLength + 60);

    const withMetadata = encodeSafetensors([], { zeta: '1', alpha: '2' });
    assert.match(withMetadata.subarray(8).toString('utf8'), /^\{"__metadata__":\{"alpha":"2","zeta":"1"\}\} *$/);
  });

  test('replaces an existing file', () => {
    withTempDir((dir) => {
      const path = join(dir, 'weights.safetensors');
      writeFileSync(path, 'old contents');
      writeSafetensors(path, [{ name: 'x', shape: [1], data: Float32Array.from([42]) }]);
      const file = openSafetensors(path);
      try {
        assert.deepEqual(file.readFloat32('x'), Float32Array.from([42]));
      } finally {
        file.close();
      }
      assert.deepEqual(readdirSync(dir), ['weights.safetensors']);
    });
  });

  test('rejects invalid input and writes nothing', () => {
    withTempDir((dir) => {
      const path = join(dir, 'bad.safetensors');
      const write = (input: TensorToWrite[]) => () => writeSafetensors(path, input);
      assertEngramError(write([{ name: 'x', shape: [2, 2], data: new Float32Array(3) }]), 'invalid-argument', /"x" has 3 values.*needs 4/);
      assertEngramError(
        write([
          { name: 'x', shape: [1], data: new Float32Array(1) },
          { name: 'x', shape: [1], data: new Float32Array(1) },
        ]),
        'invalid-argument',
        /"x" appears more than once/,
      );
      assertEngramError(write([{ name: '__metadata__', shape: [1], data: new Float32Array(1) }]), 'invalid-argument', /reserved/);
      assertEngramError(write([{ name: 'x', shape: [-1], data: new Float32Array(0) }]), 'invalid-argument', /shape \[-1\]/);
      assert.deepEqual(readdirSync(dir), []);
    });
  });
});

describe('F16 and BF16 conversion', () => {
  test('F16 known bit patterns', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504],
      [0x0400, Math.pow(2, -14)], // smallest normal
      [0x0001, Math.pow(2, -24)], // smallest subnormal
      [0x03ff, 1023 * Math.pow(2, -24)], // largest subnormal
      [0x8001, -Math.pow(2, -24)],
      [0x0000, 0],
      [0x8000, -0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x7e00, NaN],
      [0xfe01, NaN],
    ];
    withTempDir((dir) => {
      const path = join(dir, 'f16.safetensors');
      writeFileSync(path, halfWidthFile('F16', cases.map(([code]) => code)));
      const file = openSafetensors(path);
      try {
        const values = file.readFloat32('values');
        cases.forEach(([code, expected], i) => {
          assert.ok(sameFloat(values[i], expected), `0x${code.toString(16)} decoded to ${values[i]}, expected ${expected}`);
        });
      } finally {
        file.close();
      }
    });
  });

  test('F16 all 65536 codes match definition', () => {
    const codes = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
    withTempDir((dir) => {
      const path = join(dir, 'f16-all.safetensors');
      writeFileSync(path, halfWidthFile('F16', codes));
      const file = openSafetensors(path);
      try {
        const values = file.readFloat32('values');
        const wrong = [...codes].filter((code) => !sameFloat(values[code], decodeFloat16(code)));
        assert.deepEqual(wrong.slice(0, 10).map((code) => `0x${code.toString(16)}`), []);
      } finally {
        file.close();
      }
    });
  });

  test('BF16 known bit patterns', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc000, -2],
      [0x4049, 3.140625],
      [0x0080, Math.pow(2, -126)], // smallest normal
      [0x0001, Math.pow(2, -133)], // smallest subnormal
      [0x7f7f, 255 * Math.pow(2, 120)], // largest finite: (2 - 2^-7) × 2^127
      [0x8000, -0],
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x7fc0, NaN],
    ];
    withTempDir((dir) => {
      const path = join(dir, 'bf16.safetensors');
      writeFileSync(path, halfWidthFile('BF16', cases.map(([code]) => code)));
      const file = openSafetensors(path);
      try {
        const values = file.readFloat32('values');
        cases.forEach(([code, expected], i) => {
          assert.ok(sameFloat(values[i], expected), `0x${code.toString(16)} decoded to ${values[i]}, expected ${expected}`);
        });
      } finally {
        file.close();
      }
    });
  });

  test('BF16 all 65536 codes match definition', () => {
    const codes = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
    withTempDir((dir) => {
      const path = join(dir, 'bf16-all.safetensors');
      writeFileSync(path, halfWidthFile('BF16', codes));
      const file = openSafetensors(path);
      try {
        const values = file.readFloat32('values');
        const wrong = [...codes].filter((code) => !sameFloat(values[code], decodeBfloat16(code)));
        assert.deepEqual(wrong.slice(0, 10).map((code) => `0x${code.toString(16)}`), []);
      } finally {
        file.close();
      }
    });
  });

  test('F16 tensor larger than one read chunk', () => {
    // The reader converts 16 MiB of raw data at a time; this tensor spans two chunks plus an offset.
    const count = (1 << 23) + 3;
    const data = Buffer.alloc(2 * count + 6);
    for (let i = 0; i < count; i++) data.writeUInt16LE((i * 7919) & 0xffff, 6 + 2 * i);
    const header = {
      pad: { dtype: 'U8', shape: [6], data_offsets: [0, 6] },
      big: { dtype: 'F16', shape: [count], data_offsets: [6, 6 + 2 * count] },
    };
    const reference = Float32Array.from({ length: 0x10000 }, (_, code) => decodeFloat16(code));
    withTempDir((dir) => {
      const path = join(dir, 'big-f16.safetensors');
      writeFileSync(path, rawSafetensors(header, data));
      const file = openSafetensors(path);
      try {
        const values = file.readFloat32('big');
        assert.equal(values.length, count);
        let mismatches = 0;
        for (let i = 0; i < count; i++) {
          if (!sameFloat(values[i], reference[(i * 7919) & 0xffff])) mismatches++;
        }
        assert.equal(mismatches, 0);
      } finally {
        file.close();
      }
    });
  });

  test('other dtypes are rejected on read', () => {
    const header = {
      ints: { dtype: 'I32', shape: [2], data_offsets: [0, 8] },
      packed: { dtype: 'F4', shape: [4], data_offsets: [8, 10] },
      six: { dtype: 'F6_E2M3', shape: [4], data_offsets: [10, 13] },
    };
    withTempDir((dir) => {
      const path = join(dir, 'ints.safetensors');
      writeFileSync(path, rawSafetensors(header, new Uint8Array(13)));
      const file = openSafetensors(path);
      try {
        const error = assertEngramError(() => file.readFloat32('ints'), 'invalid-model', /Tensor "ints" .* has dtype I32/);
        assert.ok(error.message.includes(path));
        assertEngramError(() => file.readFloat32('packed'), 'invalid-model', /"packed" .* dtype F4/);
        assert.equal(file.readBytes('six').length, 3);
      } finally {
        file.close();
      }
    });
  });
});

describe('SafetensorsFile validation', () => {
  const f32Entry = (begin: number, end: number, shape: number[] = [(end - begin) / 4]) => ({
    dtype: 'F32',
    shape,
    data_offsets: [begin, end],
  });

  const corruptCases: { name: string; bytes: Buffer; message: RegExp }[] = [
    { name: 'file shorter than 8 bytes', bytes: Buffer.from([1, 2, 3, 4, 5]), message: /5 bytes long, shorter than the 8-byte header length prefix/ },
    { name: 'header length past end', bytes: withPrefix(1000n, Buffer.from('{}')), message: /prefix is 1000 bytes, but the file has only 2 bytes/ },
    { name: 'header length absurdly large', bytes: withPrefix(1n << 40n, Buffer.from('{}')), message: new RegExp(`above the ${maxHeaderBytes}-byte limit`) },
    { name: 'bad JSON', bytes: rawSafetensors('{"x": {"dtype": "F32",'), message: /header is not valid JSON/ },
    { name: 'JSON array header', bytes: rawSafetensors('[1, 2]'), message: /header is \[1,2\], but expected a JSON object/ },
    { name: 'entry not an object', bytes: rawSafetensors({ x: 5 }), message: /"x" has header entry 5/ },
    { name: 'missing dtype', bytes: rawSafetensors({ x: { shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), message: /"x" is missing dtype/ },
    { name: 'missing shape and offsets', bytes: rawSafetensors({ x: { dtype: 'F32' } }), message: /"x" is missing shape, data_offsets/ },
    { name: 'unknown dtype', bytes: rawSafetensors({ x: { dtype: 'F12', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), message: /"x" has unknown dtype "F12"/ },
    { name: 'negative dim', bytes: rawSafetensors({ x: f32Entry(0, 8, [-1, -2]) }, new Uint8Array(8)), message: /"x" has shape \[-1,-2\]/ },
    { name: 'non-integer dim', bytes: rawSafetensors({ x: f32Entry(0, 4, [1.5]) }, new Uint8Array(4)), message: /"x" has shape \[1\.5\]/ },
    { name: 'one data offset', bytes: rawSafetensors({ x: { dtype: 'F32', shape: [1], data_offsets: [4] } }, new Uint8Array(4)), message: /"x" has data_offsets \[4\]/ },
    { name: 'begin after end', bytes: rawSafetensors({ x: f32Entry(8, 4, [1]) }, new Uint8Array(8)), message: /\[8, 4\], but begin must not exceed end/ },
    { name: 'end past data section', bytes: rawSafetensors({ x: f32Entry(0, 16) }, new Uint8Array(8)), message: /\[0, 16\], which end past the 8-byte data section/ },
    { name: 'size mismatch', bytes: rawSafetensors({ x: f32Entry(0, 8, [3]) }, new Uint8Array(8)), message: /"x" has 8 bytes .* shape \[3\] of F32 needs 12/ },
    { name: 'packed size not whole bytes', bytes: rawSafetensors({ x: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, new Uint8Array(2)), message: /3 F4 elements, which do not fill a whole number of bytes/ },
    { name: 'overlapping tensors', bytes: rawSafetensors({ a: f32Entry(0, 8), b: f32Entry(4, 12) }, new Uint8Array(12)), message: /"b" \(bytes 4-12\) overlaps tensor "a" \(bytes 0-8\)/ },
    { name: 'metadata not strings', bytes: rawSafetensors({ __metadata__: { format: 1 } }), message: /__metadata__ key "format" has value 1, but expected a string/ },
    { name: 'metadata not an object', bytes: rawSafetensors({ __metadata__: 'pt' }), message: /__metadata__ is "pt"/ },
  ];

  for (const { name, bytes, message } of corruptCases) {
    test(`rejects ${name}`, () => {
      withTempDir((dir) => {
        const path = join(dir, 'corrupt.safetensors');
        writeFileSync(path, bytes);
        const error = assertEngramError(() => openSafetensors(path), 'invalid-safetensors', message);
        assert.ok(error.message.includes(path), 'message names the file');
        assert.match(error.message, /re-download/);
      });
    });
  }

  test('rejects header that is not UTF-8', () => {
    withTempDir((dir) => {
      const path = join(dir, 'latin1.safetensors');
      writeFileSync(path, withPrefix(4n, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
      assertEngramError(() => openSafetensors(path), 'invalid-safetensors', /4-byte header is not valid UTF-8/);
    });
  });

  test('rejects truncated data section', () => {
    withTempDir((dir) => {
      const path = join(dir, 'truncated.safetensors');
      const whole = encodeSafetensors([
        { name: 'a', shape: [4], data: new Float32Array(4) },
        { name: 'b', shape: [4], data: new Float32Array(4) },
      ]);
      writeFileSync(path, whole.subarray(0, whole.length - 3));
      assertEngramError(() => openSafetensors(path), 'invalid-safetensors', /"b" has data_offsets \[16, 32\], which end past the 29-byte data section/);
    });
  });

  test('accepts empty and scalar tensors', () => {
    withTempDir((dir) => {
      const path = join(dir, 'edge.safetensors');
      const data = Buffer.alloc(4);
      data.writeFloatLE(2.5);
      const header = {
        scalar: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
        empty: { dtype: 'F32', shape: [3, 0], data_offsets: [4, 4] },
        alsoEmpty: { dtype: 'BF16', shape: [0], data_offsets: [0, 0] },
      };
      writeFileSync(path, rawSafetensors(header, data));
      const file = openSafetensors(path);
      try {
        assert.deepEqual(file.readFloat32('scalar'), Float32Array.from([2.5]));
        assert.equal(file.readFloat32('empty').length, 0);
        assert.equal(file.readFloat32('alsoEmpty').length, 0);
        assert.deepEqual(file.metadata, {});
      } finally {
        file.close();
      }
    });
  });

  test('missing file and unknown tensor', () => {
    withTempDir((dir) => {
      const missing = join(dir, 'absent.safetensors');
      assertEngramError(() => openSafetensors(missing), 'not-found', /Safetensors file not found: .*absent\.safetensors/);
    });

    const file = openSafetensors(storiesFile);
    try {
      assertEngramError(() => file.info('lm_head.weight'), 'not-found', /"lm_head\.weight" not found in .*model\.safetensors, which has 47 tensors/);
    } finally {
      file.close();
    }
  });

  test('reads after close fail', () => {
    const file = openSafetensors(storiesFile);
    file.close();
    file.close();
    assert.throws(() => file.readFloat32('model.norm.weight'), /is closed/);
    assert.deepEqual(file.info('model.norm.weight').shape, [64], 'header data stays available');
  });
});

describe('openModelWeights with shards', () => {
  const shardOne = 'model-00001-of-00002.safetensors';
  const shardTwo = 'model-00002-of-00002.safetensors';

  function writeShardedModel(dir: string, weightMap: Record<string, string>): void {
    writeSafetensors(join(dir, shardOne), [
      { name: 'a', shape: [2], data: Float32Array.from([1, 2]) },
      { name: 'b', shape: [1, 3], data: Float32Array.from([3, 4, 5]) },
    ]);
    writeSafetensors(join(dir, shardTwo), [{ name: 'c', shape: [1], data: Float32Array.from([6]) }]);
    const index = { metadata: { total_size: 24 }, weight_map: weightMap };
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index, null, 2));
  }

  test('reads tensors across shards', () => {
    withTempDir((dir) => {
      writeShardedModel(dir, { a: shardOne, b: shardOne, c: shardTwo });
      const weights = openModelWeights(dir);
      try {
        assert.deepEqual(weights.names(), ['a', 'b', 'c']);
        assert.deepEqual(weights.files, [join(dir, shardOne), join(dir, shardTwo)]);
        assert.deepEqual(weights.shape('b'), [1, 3]);
        assert.deepEqual(weights.readFloat32('b'), Float32Array.from([3, 4, 5]));
        assert.deepEqual(weights.readFloat32('c'), Float32Array.from([6]));
        assert.ok(!weights.has('d'));
        assertEngramError(() => weights.shape('d'), 'not-found', /"d" not found in the weights of .*3 tensors/);
      } finally {
        weights.close();
      }
    });
  });

  test('prefers model.safetensors over index', () => {
    withTempDir((dir) => {
      writeShardedModel(dir, { a: shardOne, b: shardOne, c: shardTwo });
      writeSafetensors(join(dir, 'model.safetensors'), [{ name: 'single', shape: [1], data: Float32Array.from([9]) }]);
      const weights = openModelWeights(dir);
      try {
        assert.deepEqual(weights.names(), ['single']);
      } finally {
        weights.close();
      }
    });
  });

  test('missing shard is not-found', () => {
    withTempDir((dir) => {
      writeShardedModel(dir, { a: shardOne, c: 'model-00003-of-00003.safetensors' });
      assertEngramError(() => openModelWeights(dir), 'not-found', /1 are missing from .*: model-00003-of-00003\.safetensors\. Download the missing shards/);
    });
  });

  test('tensor absent from its shard', () => {
    withTempDir((dir) => {
      writeShardedModel(dir, { a: shardOne, b: shardTwo, c: shardTwo });
      assertEngramError(
        () => openModelWeights(dir),
        'invalid-model',
        /maps 1 tensors to shards that do not contain them: "b" \(in model-00002-of-00002\.safetensors\).*re-download/,
      );
    });
  });

  test('invalid index files', () => {
    withTempDir((dir) => {
      const indexPath = join(dir, 'model.safetensors.index.json');
      writeFileSync(indexPath, '{"weight_map": ');
      assertEngramError(() => openModelWeights(dir), 'invalid-model', /Invalid weights index .*not valid JSON/);

      writeFileSync(indexPath, '{"metadata": {}}');
      assertEngramError(() => openModelWeights(dir), 'invalid-model', /expected a JSON object with a "weight_map" object/);

      writeFileSync(indexPath, '{"weight_map": {}}');
      assertEngramError(() => openModelWeights(dir), 'invalid-model', /lists no tensors/);

      writeFileSync(indexPath, JSON.stringify({ weight_map: { a: '../outside.safetensors' } }));
      assertEngramError(() => openModelWeights(dir), 'invalid-model', /"a" maps to "\.\.\/outside\.safetensors", but expected a file name in the same folder/);
    });
  });

  test('corrupt shard names the shard', () => {
    withTempDir((dir) => {
      writeShardedModel(dir, { a: shardOne, b: shardOne, c: shardTwo });
      writeFileSync(join(dir, shardTwo), Buffer.from([1, 2, 3]));
      assertEngramError(() => openModelWeights(dir), 'invalid-safetensors', /model-00002-of-00002\.safetensors: the file is 3 bytes long/);
    });
  });

  test('folder without weights lists what was looked for', () => {
    withTempDir((dir) => {
      const error = assertEngramError(() => openModelWeights(dir), 'not-found', /No model weights found/);
      assert.ok(error.message.includes('model.safetensors and model.safetensors.index.json'));

      writeFileSync(join(dir, 'pytorch_model.bin'), 'x');
      assertEngramError(() => openModelWeights(dir), 'not-found', /pytorch_model\.bin, which is not supported/);
    });
  });
});

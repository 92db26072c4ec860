import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EngramError } from '../src/engine/errors';
import { corpusManifest, loadCorpus, resolveCorpusPaths } from '../src/engine/train/corpus';
import { countryFactsDir } from './helpers/paths';

const factsSha256 = 'c98fe55d63f206b81c4e013ff019689b29d393c2ccfd769c8e8de110202a51dc';

let tempRoot: string;
let caseCounter = 0;

before(() => {
  tempRoot = mkdtempSync(join(tmpdir(), 'engram-corpus-'));
});

after(() => {
  rmSync(tempRoot, { recursive: true, force: true });
});

/** Creates a fresh folder with the given files. Each value is text, written as UTF-8, or raw bytes. */
function makeCorpusDir(files: Record<string, string | Buffer>): string {
  caseCounter += 1;
  const dir = join(tempRoot, `case-${caseCounter}`);
  mkdirSync(dir, { recursive: true });
  for (const [relativePath, content] of Object.entries(files)) {
    const filePath = join(dir, relativePath);
    mkdirSync(dirname(filePath), { recursive: true });
    writeFileSync(filePath, content);
  }
  return dir;
}

/** Returns the EngramError thrown by `action`, failing the test when it throws nothing or something else. */
function catchEngramError(action: () => unknown): EngramError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof EngramError, `expected an EngramError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an EngramError, but nothing was thrown');
}

describe('country-facts fixture', () => {
  test('facts.txt loads one document per line', () => {
    const corpus = loadCorpus(['facts.txt'], { cwd: countryFactsDir });

    assert.equal(corpus.documents.length, 722);
    assert.equal(corpus.documents[0], 'The capital of Afghanistan is Kabul.');
    assert.equal(corpus.documents[721], 'The currency of Zimbabwe is the Zimbabwe Dollar.');
    assert.deepEqual(corpus.skipped, []);
  });

  test('facts.txt entry has size and sha256', () => {
    const corpus = loadCorpus([join(countryFactsDir, 'facts.txt')], { cwd: countryFactsDir });

    assert.equal(corpus.files.length, 1);
    const [entry] = corpus.files;
    assert.equal(entry.path, join(countryFactsDir, 'facts.txt'));
    assert.equal(entry.relativePath, 'facts.txt');
    assert.equal(entry.bytes, 29860);
    assert.equal(entry.sha256, factsSha256);
    assert.equal(entry.documents, 722);
  });

  test('fixture folder walk keeps text files', () => {
    // The folder also contains .json, .tsv and licence files, which a folder walk leaves out quietly.
    const resolved = resolveCorpusPaths([countryFactsDir], tempRoot);

    assert.deepEqual(resolved.files, [join(countryFactsDir, 'README.md'), join(countryFactsDir, 'facts.txt')]);
    assert.deepEqual(resolved.skipped, []);
  });
});

describe('resolveCorpusPaths', () => {
  test('folder walk skips dot-folders and node_modules', () => {
    const dir = makeCorpusDir({
      'a.txt': 'alpha',
      'sub/b.md': 'beta',
      'sub/deeper/c.jsonl': '{"text":"gamma"}',
      'sub/picture.png': 'not an image',
      '.git/notes.txt': 'hidden',
      'node_modules/pkg/readme.md': 'dependency',
    });

    const resolved = resolveCorpusPaths(['.'], dir);

    assert.deepEqual(resolved.files, [join(dir, 'a.txt'), join(dir, 'sub/b.md'), join(dir, 'sub/deeper/c.jsonl')]);
    assert.deepEqual(resolved.skipped, []);
  });

  test('glob **/*.md matches at any depth', () => {
    const dir = makeCorpusDir({
      'top.md': 'top',
      'x/y/z.md': 'deep',
      'x/n.txt': 'not markdown',
      '.hidden/h.md': 'hidden',
      'node_modules/m.md': 'dependency',
    });

    const relativeGlob = resolveCorpusPaths(['**/*.md'], dir);
    assert.deepEqual(relativeGlob.files, [join(dir, 'top.md'), join(dir, 'x/y/z.md')]);

    const absoluteGlob = resolveCorpusPaths([join(dir, '**/*.md')], tempRoot);
    assert.deepEqual(absoluteGlob.files, relativeGlob.files);
  });

  test('glob with ? and trailing **', () => {
    const dir = makeCorpusDir({
      'part1.txt': 'one',
      'part2.txt': 'two',
      'part10.txt': 'ten',
      'docs/a.md': 'a',
      'docs/more/b.txt': 'b',
      'docs/more/c.bin': 'c',
    });

    assert.deepEqual(resolveCorpusPaths(['part?.txt'], dir).files, [join(dir, 'part1.txt'), join(dir, 'part2.txt')]);
    assert.deepEqual(resolveCorpusPaths(['docs/**'], dir).files, [join(dir, 'docs/a.md'), join(dir, 'docs/more/b.txt')]);
  });

  test('results are deduplicated and sorted', () => {
    const dir = makeCorpusDir({ 'b.txt': 'b', 'a.txt': 'a', 'c/d.md': 'd' });

    const resolved = resolveCorpusPaths(['b.txt', '.', '*.txt', join(dir, 'a.txt')], dir);

    assert.deepEqual(resolved.files, [join(dir, 'a.txt'), join(dir, 'b.txt'), join(dir, 'c/d.md')]);
  });

  test('named unsupported file is listed as skipped', () => {
    const dir = makeCorpusDir({ 'paper.pdf': '%PDF-1.7', 'notes.txt': 'notes', 'Makefile': 'all:' });

    const resolved = resolveCorpusPaths(['paper.pdf', 'notes.txt', 'Makefile'], dir);

    assert.deepEqual(resolved.files, [join(dir, 'notes.txt')]);
    assert.deepEqual(resolved.skipped, [
      { path: 'Makefile', reason: 'no file extension' },
      { path: 'paper.pdf', reason: 'unsupported extension .pdf' },
    ]);
  });

  test('missing path is a not-found error', () => {
    const dir = makeCorpusDir({ 'a.txt': 'a' });

    const error = catchEngramError(() => resolveCorpusPaths(['a.txt', 'missing/notes.txt'], dir));

    assert.equal(error.code, 'not-found');
    assert.match(error.message, /"missing\/notes\.txt"/);
    assert.ok(error.message.includes(join(dir, 'missing/notes.txt')), error.message);
  });

  test('glob matching nothing is a not-found error', () => {
    const dir = makeCorpusDir({ 'a.txt': 'a' });

    const error = catchEngramError(() => resolveCorpusPaths(['**/*.md'], dir));

    assert.equal(error.code, 'not-found');
    assert.match(error.message, /"\*\*\/\*\.md"/);
  });

  test('empty folder is a not-found error', () => {
    const dir = makeCorpusDir({});

    const error = catchEngramError(() => resolveCorpusPaths([dir], tempRoot));

    assert.equal(error.code, 'not-found');
    assert.ok(error.message.includes(dir), error.message);
  });

  test('glob of only unsupported files is rejected', () => {
    const dir = makeCorpusDir({ 'a.pdf': 'a', 'b.pdf': 'b' });

    const error = catchEngramError(() => resolveCorpusPaths(['*.pdf'], dir));

    assert.equal(error.code, 'invalid-corpus');
    assert.match(error.message, /"\*\.pdf" matched 2 file/);
    assert.match(error.message, /\.jsonl/);
  });

  test('no patterns and blank pattern are rejected', () => {
    const noPatterns = catchEngramError(() => resolveCorpusPaths([], tempRoot));
    assert.equal(noPatterns.code, 'invalid-corpus');

    const blankPattern = catchEngramError(() => resolveCorpusPaths(['  '], tempRoot));
    assert.equal(blankPattern.code, 'invalid-corpus');
  });
});

describe('loadCorpus', () => {
  test('text splits at blank lines', () => {
    const dir = makeCorpusDir({
      'a.txt': '\n\nFirst line\nsecond line   \n\n\n  \t\nSecond doc\t\n   indented line\n\n\n',
      'b.md': '# Title\n\nParagraph one.\n',
    });

    const corpus = loadCorpus(['.'], { cwd: dir });

    assert.deepEqual(corpus.documents, ['First line\nsecond line', 'Second doc\t\n   indented line', '# Title', 'Paragraph one.']);
    assert.deepEqual(
      corpus.files.map((file) => [file.relativePath, file.documents]),
      [
        ['a.txt', 2],
        ['b.md', 2],
      ],
    );
  });

  test('CRLF becomes LF', () => {
    const dir = makeCorpusDir({ 'windows.txt': 'line one\r\nline two\r\n\r\nnext doc\r\n' });

    const corpus = loadCorpus(['windows.txt'], { cwd: dir });

    assert.deepEqual(corpus.documents, ['line one\nline two', 'next doc']);
  });

  test('BOM is stripped but hashed', () => {
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Héllo wörld\n', 'utf8')]);
    const dir = makeCorpusDir({ 'bom.txt': raw });

    const corpus = loadCorpus(['bom.txt'], { cwd: dir });

    assert.deepEqual(corpus.documents, ['Héllo wörld']);
    assert.equal(corpus.files[0].bytes, raw.length);
    assert.equal(corpus.files[0].sha256, createHash('sha256').update(raw).digest('hex'));
  });

  test('jsonl keeps good lines, records bad ones', () => {
    const lines = [
      '{"text": "first document"}',
      '{"body": "no text field"}',
      '',
      '{"text": "second\\ndocument", "source": "wiki"}',
      'not json at all',
      '{"text": "third"}',
      '{"text": "   "}',
    ];
    const dir = makeCorpusDir({ 'data.jsonl': `${lines.join('\r\n')}\r\n` });

    const corpus = loadCorpus(['data.jsonl'], { cwd: dir });

    assert.deepEqual(corpus.documents, ['first document', 'second\ndocument', 'third']);
    assert.equal(corpus.files.length, 1);
    assert.equal(corpus.files[0].documents, 3);
    assert.equal(corpus.skipped.length, 2);
    assert.deepEqual(corpus.skipped[0], { path: 'data.jsonl', reason: 'jsonl line 2: missing string field "text"' });
    assert.equal(corpus.skipped[1].path, 'data.jsonl');
    assert.match(corpus.skipped[1].reason, /^jsonl line 5: invalid JSON \(/);
  });

  test('jsonl mostly invalid is skipped whole', () => {
    const dir = makeCorpusDir({
      'bad.jsonl': '{"text": "only good line"}\n["an array"]\n{"text": 42}\n',
      'good.txt': 'fallback text',
    });

    const corpus = loadCorpus(['.'], { cwd: dir });

    assert.deepEqual(corpus.documents, ['fallback text']);
    assert.deepEqual(
      corpus.files.map((file) => file.relativePath),
      ['good.txt'],
    );
    assert.equal(corpus.skipped.length, 1);
    assert.equal(corpus.skipped[0].path, 'bad.jsonl');
    assert.match(corpus.skipped[0].reason, /^2 of 3 jsonl lines are invalid/);
    assert.match(corpus.skipped[0].reason, /jsonl line 2: expected a JSON object/);
  });

  test('jsonl half invalid keeps the good half', () => {
    const dir = makeCorpusDir({ 'half.jsonl': '{"text": "kept"}\n{"text": null}\n' });

    const corpus = loadCorpus(['half.jsonl'], { cwd: dir });

    assert.deepEqual(corpus.documents, ['kept']);
    assert.deepEqual(corpus.skipped, [{ path: 'half.jsonl', reason: 'jsonl line 2: missing string field "text"' }]);
  });

  test('binary file is skipped with reason', () => {
    const binary = Buffer.concat([Buffer.from('PK header'), Buffer.from([0x00, 0x01, 0x02]), Buffer.from('rest')]);
    const dir = makeCorpusDir({ 'archive.txt': binary, 'good.txt': 'plain text' });

    const corpus = loadCorpus(['.'], { cwd: dir });

    assert.deepEqual(corpus.documents, ['plain text']);
    assert.deepEqual(corpus.skipped, [{ path: 'archive.txt', reason: 'binary (NUL bytes)' }]);
  });

  test('invalid UTF-8 is skipped with offset', () => {
    const latin1 = Buffer.from('caf\xe9 au lait', 'latin1');
    const truncated = Buffer.concat([Buffer.from('ok '), Buffer.from([0xe2, 0x82])]);
    const surrogate = Buffer.concat([Buffer.from('ab'), Buffer.from([0xed, 0xa0, 0x80])]);
    const dir = makeCorpusDir({
      'latin1.txt': latin1,
      'truncated.md': truncated,
      'surrogate.txt': surrogate,
      'good.txt': 'fine',
    });

    const corpus = loadCorpus(['.'], { cwd: dir });

    assert.deepEqual(corpus.documents, ['fine']);
    assert.deepEqual(corpus.skipped, [
      { path: 'latin1.txt', reason: 'not valid UTF-8 at byte 3' },
      { path: 'surrogate.txt', reason: 'not valid UTF-8 at byte 2' },
      { path: 'truncated.md', reason: 'not valid UTF-8 at byte 3' },
    ]);
  });

  test('corpus without documents is rejected', () => {
    const dir = makeCorpusDir({
      'blank.txt': '',
      'spaces.md': '  \n\t\n',
      'bytes.txt': Buffer.from([0x41, 0x00, 0x42]),
      'scan.pdf': '%PDF',
    });

    const error = catchEngramError(() => loadCorpus(['.', 'scan.pdf'], { cwd: dir }));

    assert.equal(error.code, 'invalid-corpus');
    assert.match(error.message, /No usable documents were found/);
    assert.match(error.message, /blank\.txt: empty/);
    assert.match(error.message, /spaces\.md: empty \(only whitespace\)/);
    assert.match(error.message, /bytes\.txt: binary \(NUL bytes\)/);
    assert.match(error.message, /scan\.pdf: unsupported extension \.pdf/);
    assert.match(error.message, /\.jsonl files with one \{"text": "\.\.\."\} object per line/);
  });

  test('maxBytes limits the total size', () => {
    const dir = makeCorpusDir({ 'a.txt': 'aaaa', 'b.txt': 'bbbb' });

    assert.equal(loadCorpus(['.'], { cwd: dir, maxBytes: 8 }).documents.length, 2);

    const tooLarge = catchEngramError(() => loadCorpus(['.'], { cwd: dir, maxBytes: 7 }));
    assert.equal(tooLarge.code, 'invalid-corpus');
    assert.match(tooLarge.message, /"b\.txt"/);
    assert.match(tooLarge.message, /limit of 7 bytes/);

    const invalidLimit = catchEngramError(() => loadCorpus(['.'], { cwd: dir, maxBytes: 0 }));
    assert.equal(invalidLimit.code, 'invalid-argument');
  });
});

describe('corpusManifest', () => {
  test('manifest has relative paths only', () => {
    const jsonl = '{"text": "gamma"}\n{"text": "delta"}\n{"oops": 1}\n';
    const dir = makeCorpusDir({
      'notes/a.md': 'alpha\n\nbeta',
      'notes/b.jsonl': jsonl,
      'notes/skip.bin': Buffer.from([0x00]),
    });

    const corpus = loadCorpus(['notes', 'notes/skip.bin'], { cwd: dir });
    const manifest = corpusManifest(corpus);

    assert.equal(manifest.documents, 4);
    assert.deepEqual(
      manifest.files.map((file) => [file.path, file.documents, file.bytes]),
      [
        ['notes/a.md', 2, 11],
        ['notes/b.jsonl', 2, Buffer.byteLength(jsonl)],
      ],
    );
    assert.deepEqual(manifest.skipped, [
      { path: 'notes/skip.bin', reason: 'unsupported extension .bin' },
      { path: 'notes/b.jsonl', reason: 'jsonl line 3: missing string field "text"' },
    ]);

    const json = JSON.stringify(manifest);
    assert.ok(!json.includes(tempRoot), json);
    assert.deepEqual(JSON.parse(json), manifest);
  });
});

describe('text encodings', () => {
  test('UTF-16 file is skipped with the fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-utf16-'));
    try {
      writeFileSync(join(dir, 'utf16.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Hello there', 'utf16le')]));
      writeFileSync(join(dir, 'plain.txt'), 'Hello there');
      const corpus = loadCorpus(['.'], { cwd: dir });
      assert.equal(corpus.skipped.length, 1);
      assert.match(corpus.skipped[0].reason, /UTF-16 text; save it as UTF-8/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

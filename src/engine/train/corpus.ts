import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, type Dirent, type Stats } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { EngramError } from '../errors';

/** One corpus file that contributed at least one document. */
export interface CorpusFileEntry {
  /** Absolute path. */
  path: string;
  /** Path relative to the `cwd` given to `loadCorpus`, with '/' separators. */
  relativePath: string;
  /** Size of the raw file in bytes. */
  bytes: number;
  /** Lowercase hex SHA-256 of the raw file bytes, BOM included. */
  sha256: string;
  /** Documents taken from this file. */
  documents: number;
}

/** A file, folder or JSONL line left out of the corpus, with the reason. */
export interface SkippedFile {
  /** Path relative to `cwd` with '/' separators, so it can be shown to users and stored in a pack. */
  path: string;
  /** Short reason, such as 'binary (NUL bytes)' or 'jsonl line 3: missing string field "text"'. */
  reason: string;
}

export interface LoadedCorpus {
  /** Documents in file order, with the files taken in sorted path order. */
  documents: string[];
  files: CorpusFileEntry[];
  skipped: SkippedFile[];
}

/** Extensions that `loadCorpus` can read, compared in lowercase. */
const supportedExtensions: readonly string[] = ['.txt', '.md', '.jsonl'];
const supportedFormatsHint =
  'Pass .txt or .md files (documents separated by blank lines, or one per line), or .jsonl files with one {"text": "..."} object per line.';

/** Number of leading bytes searched for NUL bytes when detecting binary files. */
const binaryProbeBytes = 8192;

/** Maximum number of skipped files listed in an error message. The rest are only counted. */
const maxSkippedInMessage = 20;

// ---------------------------------------------------------------------------
// Resolving patterns to files
// ---------------------------------------------------------------------------

/**
 * Expands corpus patterns into a sorted, deduplicated list of absolute file paths.
 *
 * Each pattern is a file, a folder or a glob, relative to `cwd` or absolute. Folders are
 * walked recursively, skipping folders whose name starts with '.' and `node_modules`.
 * Globs support `*` and `?` within one path segment and `**` for any number of segments.
 * A wildcard does not match a name that starts with '.', `**` does not enter `node_modules`,
 * and a glob matches files only. Symbolic links to files are followed, but recursive walks
 * do not enter linked folders, which keeps them free of cycles.
 *
 * Files with an unsupported extension are left out quietly when a folder or glob finds them,
 * but a file named directly is returned in `skipped`. So are folders that cannot be listed
 * and named paths that are neither a file nor a folder. A path that exists literally is
 * taken as is, even if it contains '*' or '?'.
 *
 * Throws an `EngramError` with code 'not-found' for a pattern that matches nothing, and
 * 'invalid-corpus' for an empty pattern list, a blank pattern, or a folder or glob that
 * finds only files with unsupported extensions.
 */
export function resolveCorpusPaths(patterns: string[], cwd: string): { files: string[]; skipped: SkippedFile[] } {
  if (patterns.length === 0) {
    throw new EngramError('invalid-corpus', `No corpus was given. Pass at least one file, folder or glob. ${supportedFormatsHint}`);
  }

  const baseDir = resolve(cwd);
  const files = new Set<string>();
  const skipped = new Map<string, SkippedFile>();

  for (const pattern of patterns) {
    const found = resolvePattern(pattern, baseDir);
    for (const file of found.files) files.add(file);
    for (const entry of found.skipped) if (!skipped.has(entry.path)) skipped.set(entry.path, entry);
  }

  return {
    files: [...files].sort(compareCodeUnits),
    skipped: [...skipped.values()].sort((a, b) => compareCodeUnits(a.path, b.path)),
  };
}

function resolvePattern(pattern: string, baseDir: string): { files: string[]; skipped: SkippedFile[] } {
  if (pattern.trim() === '') {
    throw new EngramError('invalid-corpus', `Corpus pattern ${JSON.stringify(pattern)} is blank. Pass a file, folder or glob.`);
  }

  const absolutePath = resolve(baseDir, pattern);
  const stats = statOrUndefined(absolutePath);

  if (stats?.isFile()) {
    if (isSupportedFile(absolutePath)) return { files: [absolutePath], skipped: [] };
    return { files: [], skipped: [{ path: toRelativePath(baseDir, absolutePath), reason: unsupportedExtensionReason(absolutePath) }] };
  }
  if (stats?.isDirectory()) {
    const walk = walkFolder(absolutePath, baseDir);
    requireSupportedMatch(pattern, 'folder', walk.files.length, walk.unsupported, baseDir);
    return { files: walk.files, skipped: walk.skipped };
  }
  if (stats) {
    return { files: [], skipped: [{ path: toRelativePath(baseDir, absolutePath), reason: 'not a regular file or folder' }] };
  }

  if (!hasWildcard(pattern)) {
    throw new EngramError(
      'not-found',
      `Corpus path "${pattern}" was not found (looked for ${absolutePath}). Check the spelling, or pass a folder or a glob such as "docs/**/*.md".`,
    );
  }

  const matches = expandGlob(pattern, baseDir);
  requireSupportedMatch(pattern, 'glob', matches.files.length, matches.unsupported, baseDir);
  return { files: matches.files, skipped: matches.skipped };
}

/** Throws when a folder or glob pattern found no file that `loadCorpus` can read. */
function requireSupportedMatch(pattern: string, kind: 'folder' | 'glob', supported: number, unsupported: number, baseDir: string): void {
  if (supported > 0) return;

  if (unsupported === 0) {
    const subject = kind === 'folder' ? `Corpus folder "${pattern}" contains no files` : `Corpus glob "${pattern}" matched no files`;
    throw new EngramError(
      'not-found',
      `${subject}. Relative paths are resolved against ${baseDir}, and folders starting with '.' and node_modules are not searched. Check the pattern, or pass the files directly.`,
    );
  }
  const subject = kind === 'folder' ? `Corpus folder "${pattern}" contains` : `Corpus glob "${pattern}" matched`;
  throw new EngramError(
    'invalid-corpus',
    `${subject} ${unsupported} file(s), but none has a supported extension (${supportedExtensions.join(', ')}). ${supportedFormatsHint}`,
  );
}

interface WalkResult {
  /** Absolute paths of files with a supported extension. */
  files: string[];
  /** Number of files found with an unsupported extension, which are left out quietly. */
  unsupported: number;
  /** Folders that could not be listed. */
  skipped: SkippedFile[];
}

function emptyWalkResult(): WalkResult {
  return { files: [], unsupported: 0, skipped: [] };
}

function walkFolder(folder: string, baseDir: string): WalkResult {
  const result = emptyWalkResult();
  const pending = [folder];

  while (pending.length > 0) {
    const current = pending.pop() as string;
    const entries = listFolder(current, baseDir, result);
    for (const entry of entries) {
      const entryPath = join(current, entry.name);
      if (entry.isDirectory()) {
        if (!isExcludedFolderName(entry.name)) pending.push(entryPath);
      } else if (isFileEntry(entry, entryPath)) {
        collectFile(entryPath, result);
      }
    }
  }
  return result;
}

/**
 * Matches a glob against the file system, one path segment at a time, starting from the
 * longest leading part of the pattern that has no wildcard.
 */
function expandGlob(pattern: string, baseDir: string): WalkResult {
  // Backslashes separate folders only on Windows. Elsewhere they are ordinary name characters.
  const normalised = sep === '\\' ? pattern.replace(/\\/g, '/') : pattern;
  const segments = normalised.split('/');

  // The cwd is joined after the split, so wildcard characters in its name stay literal.
  const firstWildcard = segments.findIndex(hasWildcard);
  const literalPrefix = segments.slice(0, firstWildcard).join('/');
  const root = isAbsolute(normalised) ? resolve(literalPrefix || '/') : resolve(baseDir, literalPrefix);
  const rest = collapseGlobstars(segments.slice(firstWildcard).filter((segment) => segment !== '' && segment !== '.'));

  const result = emptyWalkResult();
  if (statOrUndefined(root)?.isDirectory()) matchSegments(root, rest, 0, baseDir, result);
  return result;
}

function matchSegments(folder: string, segments: string[], index: number, baseDir: string, result: WalkResult): void {
  const segment = segments[index];
  const isLast = index === segments.length - 1;

  if (segment === '**') {
    // `**` matches zero segments here, or one more folder on each recursive call.
    if (!isLast) matchSegments(folder, segments, index + 1, baseDir, result);
    for (const entry of listFolder(folder, baseDir, result)) {
      if (entry.name.startsWith('.')) continue;
      const entryPath = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!isExcludedFolderName(entry.name)) matchSegments(entryPath, segments, index, baseDir, result);
      } else if (isLast && isFileEntry(entry, entryPath)) {
        collectFile(entryPath, result);
      }
    }
    return;
  }

  if (!hasWildcard(segment)) {
    const entryPath = join(folder, segment);
    const stats = statOrUndefined(entryPath);
    if (isLast && stats?.isFile()) collectFile(entryPath, result);
    if (!isLast && stats?.isDirectory()) matchSegments(entryPath, segments, index + 1, baseDir, result);
    return;
  }

  const matcher = segmentMatcher(segment);
  for (const entry of listFolder(folder, baseDir, result)) {
    if (!matcher.test(entry.name)) continue;
    const entryPath = join(folder, entry.name);
    if (isLast && isFileEntry(entry, entryPath)) collectFile(entryPath, result);
    if (!isLast && entry.isDirectory()) matchSegments(entryPath, segments, index + 1, baseDir, result);
  }
}

/** Builds a regular expression for one glob segment. A name starting with '.' matches only a literal leading '.'. */
function segmentMatcher(segment: string): RegExp {
  let source = '';
  for (const char of segment) {
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const hiddenGuard = segment.startsWith('.') ? '' : '(?!\\.)';
  return new RegExp(`^${hiddenGuard}${source}$`);
}

/** Merges runs of `**`, which match the same paths as one and would repeat the walk. */
function collapseGlobstars(segments: string[]): string[] {
  return segments.filter((segment, index) => !(segment === '**' && segments[index - 1] === '**'));
}

function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

function isExcludedFolderName(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules';
}

function collectFile(filePath: string, result: WalkResult): void {
  if (isSupportedFile(filePath)) result.files.push(filePath);
  else result.unsupported += 1;
}

/** Lists a folder, recording it as skipped when it cannot be read. */
function listFolder(folder: string, baseDir: string, result: WalkResult): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    result.skipped.push({ path: toRelativePath(baseDir, folder), reason: `folder could not be read (${code})` });
    return [];
  }
}

/** True for a regular file, or a symbolic link that points to one. */
function isFileEntry(entry: Dirent, entryPath: string): boolean {
  if (entry.isFile()) return true;
  return entry.isSymbolicLink() && statOrUndefined(entryPath)?.isFile() === true;
}

function statOrUndefined(filePath: string): Stats | undefined {
  try {
    return statSync(filePath);
  } catch (error) {
    if (errnoCode(error) === undefined) throw error;
    return undefined;
  }
}

function isSupportedFile(filePath: string): boolean {
  return supportedExtensions.includes(extname(filePath).toLowerCase());
}

function unsupportedExtensionReason(filePath: string): string {
  const extension = extname(filePath);
  return extension === '' ? 'no file extension' : `unsupported extension ${extension}`;
}

// ---------------------------------------------------------------------------
// Reading and splitting files
// ---------------------------------------------------------------------------

/**
 * Reads every file that the patterns resolve to and splits it into training documents.
 *
 * `.txt` and `.md` files are split at runs of blank lines (lines with only whitespace count
 * as blank). A file without any blank line is a list of records, such as one fact per line,
 * and each of its lines is a document, as Hugging Face's `text` dataset loader reads it.
 * CRLF becomes LF, trailing whitespace is trimmed from each document, and empty
 * documents are dropped. A `.jsonl` file contains one JSON object with a string `text` field
 * per line, whose value is taken verbatim. Blank lines and whitespace-only texts are ignored.
 * When more than half of its non-blank lines are invalid the whole file is skipped, otherwise
 * only the invalid lines are, and each one is recorded.
 *
 * Files that are empty, contain NUL bytes in their first 8 KB, or are not valid UTF-8 are
 * skipped with the reason. A UTF-8 BOM is removed before splitting.
 *
 * `maxBytes` limits the total size of the files read, checked before each file is read.
 * Throws an `EngramError` ('invalid-corpus') when that limit is exceeded or no document
 * remains, and the errors of `resolveCorpusPaths` for bad patterns.
 */
export function loadCorpus(patterns: string[], options: { cwd: string; maxBytes?: number }): LoadedCorpus {
  const { maxBytes } = options;
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw new EngramError('invalid-argument', `Corpus size limit maxBytes=${maxBytes} is invalid. Pass a positive whole number of bytes, or leave it unset for no limit.`);
  }

  const baseDir = resolve(options.cwd);
  const resolved = resolveCorpusPaths(patterns, baseDir);
  const documents: string[] = [];
  const files: CorpusFileEntry[] = [];
  const skipped: SkippedFile[] = [...resolved.skipped];
  let totalBytes = 0;

  for (const filePath of resolved.files) {
    const relativePath = toRelativePath(baseDir, filePath);
    const size = statOrUndefined(filePath)?.size ?? 0;
    if (maxBytes !== undefined && totalBytes + size > maxBytes) {
      throw new EngramError(
        'invalid-corpus',
        `The corpus is larger than the limit of ${maxBytes} bytes: reading "${relativePath}" (${size} bytes) would bring the total to ${totalBytes + size} bytes. Pass fewer files, or raise the corpus size limit.`,
      );
    }

    const raw = readFileOrReason(filePath);
    if (typeof raw === 'string') {
      skipped.push({ path: relativePath, reason: raw });
      continue;
    }
    totalBytes += raw.length;

    const parsed = parseFile(filePath, raw);
    for (const reason of parsed.skippedReasons) skipped.push({ path: relativePath, reason });
    if (parsed.documents.length === 0) continue;

    documents.push(...parsed.documents);
    files.push({
      path: filePath,
      relativePath,
      bytes: raw.length,
      sha256: createHash('sha256').update(raw).digest('hex'),
      documents: parsed.documents.length,
    });
  }

  if (documents.length === 0) throw noDocumentsError(patterns, skipped);
  return { documents, files, skipped };
}

/**
 * Builds the JSON-safe corpus record stored in a pack. Paths are relative to the `cwd` that
 * the corpus was loaded from, so the record contains no absolute paths of this machine.
 */
export function corpusManifest(corpus: LoadedCorpus): {
  files: { path: string; bytes: number; sha256: string; documents: number }[];
  skipped: SkippedFile[];
  documents: number;
} {
  return {
    files: corpus.files.map((file) => ({ path: file.relativePath, bytes: file.bytes, sha256: file.sha256, documents: file.documents })),
    skipped: corpus.skipped.map((entry) => ({ path: entry.path, reason: entry.reason })),
    documents: corpus.documents.length,
  };
}

function noDocumentsError(patterns: string[], skipped: SkippedFile[]): EngramError {
  const patternList = patterns.map((pattern) => JSON.stringify(pattern)).join(', ');
  const lines = skipped.slice(0, maxSkippedInMessage).map((entry) => `  ${entry.path}: ${entry.reason}`);
  if (skipped.length > maxSkippedInMessage) lines.push(`  ... and ${skipped.length - maxSkippedInMessage} more`);
  const skippedText = lines.length > 0 ? `Skipped:\n${lines.join('\n')}\n` : '';
  return new EngramError('invalid-corpus', `No usable documents were found in the corpus (${patternList}).\n${skippedText}${supportedFormatsHint}`);
}

/** Returns the file bytes, or a skip reason when the file cannot be read. */
function readFileOrReason(filePath: string): Buffer | string {
  try {
    return readFileSync(filePath);
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    return `could not be read (${code})`;
  }
}

interface ParsedFile {
  documents: string[];
  /** Reasons to record as skipped: one for the whole file, or one per invalid JSONL line. */
  skippedReasons: string[];
}

function parseFile(filePath: string, raw: Buffer): ParsedFile {
  const decoded = decodeText(raw);
  if (!decoded.ok) return { documents: [], skippedReasons: [decoded.reason] };

  if (extname(filePath).toLowerCase() === '.jsonl') return parseJsonl(decoded.text);

  const documents = splitDocuments(decoded.text);
  if (documents.length === 0) return { documents, skippedReasons: ['empty (only whitespace)'] };
  return { documents, skippedReasons: [] };
}

/** Decodes UTF-8 text, or returns why the bytes are not text. */
function decodeText(raw: Buffer): { ok: true; text: string } | { ok: false; reason: string } {
  if (raw.length === 0) return { ok: false, reason: 'empty' };
  const utf16 = (raw[0] === 0xff && raw[1] === 0xfe) || (raw[0] === 0xfe && raw[1] === 0xff);
  if (utf16) return { ok: false, reason: 'UTF-16 text; save it as UTF-8' };
  if (raw.subarray(0, binaryProbeBytes).includes(0)) return { ok: false, reason: 'binary (NUL bytes)' };

  let text: string;
  try {
    // With ignoreBOM false (the default) the decoder removes a leading UTF-8 BOM.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const offset = findInvalidUtf8Offset(raw);
    return { ok: false, reason: offset === -1 ? 'not valid UTF-8' : `not valid UTF-8 at byte ${offset}` };
  }

  if (text === '') return { ok: false, reason: 'empty' };
  return { ok: true, text };
}

/**
 * Returns the 0-based offset of the first byte that does not start a well-formed UTF-8
 * sequence, or -1 when all bytes are well formed. Overlong forms, UTF-16 surrogates and code
 * points above U+10FFFF are invalid, as they are for a fatal TextDecoder.
 */
function findInvalidUtf8Offset(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index];
    if (lead < 0x80) {
      index += 1;
      continue;
    }

    const rule = utf8SequenceRule(lead);
    if (rule === undefined || index + rule.length > bytes.length) return index;
    const second = bytes[index + 1];
    if (second < rule.secondMin || second > rule.secondMax) return index;
    for (let offset = 2; offset < rule.length; offset += 1) {
      const continuation = bytes[index + offset];
      if (continuation < 0x80 || continuation > 0xbf) return index;
    }
    index += rule.length;
  }
  return -1;
}

/** Sequence length and allowed range of the second byte for a UTF-8 lead byte of 0x80 or more. */
function utf8SequenceRule(lead: number): { length: number; secondMin: number; secondMax: number } | undefined {
  if (lead >= 0xc2 && lead <= 0xdf) return { length: 2, secondMin: 0x80, secondMax: 0xbf };
  if (lead === 0xe0) return { length: 3, secondMin: 0xa0, secondMax: 0xbf };
  if (lead === 0xed) return { length: 3, secondMin: 0x80, secondMax: 0x9f };
  if (lead >= 0xe1 && lead <= 0xef) return { length: 3, secondMin: 0x80, secondMax: 0xbf };
  if (lead === 0xf0) return { length: 4, secondMin: 0x90, secondMax: 0xbf };
  if (lead >= 0xf1 && lead <= 0xf3) return { length: 4, secondMin: 0x80, secondMax: 0xbf };
  if (lead === 0xf4) return { length: 4, secondMin: 0x80, secondMax: 0x8f };
  return undefined;
}

/** Splits plain text or Markdown into documents at runs of blank lines, or into lines when it has none. */
function splitDocuments(text: string): string[] {
  const documents: string[] = [];
  let lines: string[] = [];
  const allLines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  if (!allLines.some((line) => line.trim() === '')) {
    return allLines.map((line) => line.trimEnd()).filter((line) => line !== '');
  }

  const finishDocument = (): void => {
    const document = lines.join('\n').trimEnd();
    if (document !== '') documents.push(document);
    lines = [];
  };

  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (line.trim() === '') finishDocument();
    else lines.push(line);
  }
  finishDocument();
  return documents;
}

function parseJsonl(text: string): ParsedFile {
  const documents: string[] = [];
  const invalidLines: string[] = [];
  let nonBlankLines = 0;

  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    nonBlankLines += 1;

    const parsed = parseJsonlLine(line);
    if (typeof parsed === 'string') {
      if (parsed.trim() !== '') documents.push(parsed);
    } else {
      invalidLines.push(`jsonl line ${index + 1}: ${parsed.problem}`);
    }
  }

  if (nonBlankLines === 0) return { documents: [], skippedReasons: ['empty (only blank lines)'] };
  if (invalidLines.length * 2 > nonBlankLines) {
    const reason = `${invalidLines.length} of ${nonBlankLines} jsonl lines are invalid, so the whole file was skipped (first: ${invalidLines[0]})`;
    return { documents: [], skippedReasons: [reason] };
  }
  if (documents.length === 0) {
    return { documents, skippedReasons: [...invalidLines, 'every "text" value is empty or whitespace'] };
  }
  return { documents, skippedReasons: invalidLines };
}

/** Returns the `text` field of one JSONL line, or what is wrong with the line. */
function parseJsonlLine(line: string): string | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return { problem: `invalid JSON (${error.message})` };
  }

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'expected a JSON object' };
  }
  const textValue: unknown = (value as Record<string, unknown>).text;
  if (typeof textValue !== 'string') return { problem: 'missing string field "text"' };
  return textValue;
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/**
 * Returns `filePath` relative to `baseDir` with '/' separators.
 * NOTE: on Windows a file on another drive than `baseDir` has no relative path, so the
 * absolute path is returned and would end up in a pack manifest.
 */
function toRelativePath(baseDir: string, filePath: string): string {
  return relative(baseDir, filePath).split(sep).join('/');
}

/** Returns the `code` of a Node.js system error such as ENOENT, or undefined for other values. */
function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string') {
    return (error as NodeJS.ErrnoException).code;
  }
  return undefined;
}

/** Orders strings by UTF-16 code units, so the order does not depend on the locale. */
function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

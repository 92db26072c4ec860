import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers/paths';

// Checks that every user-facing string can be translated: manifest strings through
// package.nls.json, and `vscode.l10n.t` messages through l10n/bundle.l10n.json, which
// `npm run l10n:export` regenerates from src/extension.

// TypeScript parses the sources. It is loaded from node_modules at run time instead of being
// bundled into this test, which would add its 9 MB compiler.
const ts = createRequire(join(repoRoot, 'package.json'))('typescript') as typeof import('typescript');

const regenerate = 'Run `npm run l10n:export` to regenerate l10n/bundle.l10n.json.';

type Json = Record<string, unknown>;

function readJson(path: string): Json {
  return JSON.parse(readFileSync(join(repoRoot, path), 'utf8')) as Json;
}

const manifest = readJson('package.json');
const nls = readJson('package.nls.json');
const bundle = readJson('l10n/bundle.l10n.json');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface L10nCall {
  /** `file:line` of the call. */
  location: string;
  /** The message, or undefined when the first argument is not a string literal. */
  message: string | undefined;
}

/** Finds every `vscode.l10n.t(...)` and `l10n.t(...)` call in `file`. */
function l10nCalls(file: string): L10nCall[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const calls: L10nCall[] = [];
  const visit = (node: import('typescript').Node): void => {
    if (ts.isCallExpression(node) && isL10nT(node.expression)) {
      const first = node.arguments[0];
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      const literal = first !== undefined && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first));
      calls.push({ location: `${relative(repoRoot, file)}:${line}`, message: literal ? first.text : undefined });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls;
}

function isL10nT(expression: import('typescript').Expression): boolean {
  if (!ts.isPropertyAccessExpression(expression) || expression.name.text !== 't') return false;
  const owner = expression.expression;
  if (ts.isIdentifier(owner)) return owner.text === 'l10n';
  return ts.isPropertyAccessExpression(owner) && owner.name.text === 'l10n';
}

const calls = sourceFiles(join(repoRoot, 'src/extension')).flatMap(l10nCalls);
const messages = new Set(calls.flatMap((call) => (call.message === undefined ? [] : [call.message])));

test('l10n finds vscode.l10n.t calls', () => {
  assert.ok(calls.length > 50, `only ${calls.length} calls found; the search is broken`);
});

test('l10n messages are literals', () => {
  const dynamic = calls.filter((call) => call.message === undefined).map((call) => call.location);
  assert.deepEqual(dynamic, [], 'the first argument of vscode.l10n.t must be a string literal, or the export cannot find it');
});

test('l10n bundle has every message', () => {
  const missing = calls.filter((call) => call.message !== undefined && !(call.message in bundle)).map((call) => `${call.location}: ${call.message}`);
  assert.deepEqual(missing, [], regenerate);
});

test('l10n bundle has no stale message', () => {
  const stale = Object.keys(bundle).filter((key) => !messages.has(key));
  assert.deepEqual(stale, [], regenerate);
});

test('l10n bundle values are English', () => {
  const changed = Object.entries(bundle).filter(([key, value]) => value !== key).map(([key]) => key);
  assert.deepEqual(changed, [], 'bundle.l10n.json is the English source; translations go into bundle.l10n.<locale>.json');
});

test('manifest points at l10n folder', () => {
  assert.equal(manifest.l10n, './l10n');
  assert.ok(existsSync(join(repoRoot, 'l10n/bundle.l10n.json')));
});

/** Manifest strings that users see, as [JSON path, value]. */
function userFacingManifestStrings(): [string, unknown][] {
  const entries: [string, unknown][] = [
    ['displayName', manifest.displayName],
    ['description', manifest.description],
  ];
  const capabilities = manifest.capabilities as { untrustedWorkspaces?: { description?: unknown } } | undefined;
  entries.push(['capabilities.untrustedWorkspaces.description', capabilities?.untrustedWorkspaces?.description]);

  const contributes = manifest.contributes as {
    commands: { command: string; title: unknown; shortTitle?: unknown; category?: unknown }[];
    viewsContainers: Record<string, { id: string; title: unknown }[]>;
    views: Record<string, { id: string; name: unknown; contextualTitle?: unknown }[]>;
    viewsWelcome: { view: string; contents: unknown }[];
    configuration: { title: unknown; properties: Record<string, Record<string, unknown>> };
  };
  for (const command of contributes.commands) {
    entries.push([`${command.command}.title`, command.title]);
    if (command.shortTitle !== undefined) entries.push([`${command.command}.shortTitle`, command.shortTitle]);
    if (command.category !== undefined) entries.push([`${command.command}.category`, command.category]);
  }
  for (const [location, containers] of Object.entries(contributes.viewsContainers)) {
    for (const container of containers) entries.push([`viewsContainers.${location}.${container.id}.title`, container.title]);
  }
  for (const views of Object.values(contributes.views)) {
    for (const view of views) {
      entries.push([`${view.id}.name`, view.name]);
      if (view.contextualTitle !== undefined) entries.push([`${view.id}.contextualTitle`, view.contextualTitle]);
    }
  }
  contributes.viewsWelcome.forEach((welcome, index) => entries.push([`viewsWelcome[${index}] (${welcome.view})`, welcome.contents]));
  entries.push(['configuration.title', contributes.configuration.title]);
  for (const [key, property] of Object.entries(contributes.configuration.properties)) {
    for (const field of ['description', 'markdownDescription', 'deprecationMessage', 'markdownDeprecationMessage']) {
      if (property[field] !== undefined) entries.push([`${key}.${field}`, property[field]]);
    }
    for (const field of ['enumDescriptions', 'markdownEnumDescriptions']) {
      const descriptions = property[field];
      if (Array.isArray(descriptions)) descriptions.forEach((text, index) => entries.push([`${key}.${field}[${index}]`, text]));
    }
  }
  return entries;
}

const placeholderPattern = /^%([^%]+)%$/;

test('manifest strings use nls placeholders', () => {
  const literal = userFacingManifestStrings()
    .filter(([, value]) => typeof value !== 'string' || !placeholderPattern.test(value))
    .map(([path, value]) => `${path}: ${JSON.stringify(value)}`);
  assert.deepEqual(literal, [], 'replace each with "%key%" and add the key to package.nls.json');
});

/** Collects the keys of all `%key%` strings anywhere in `value`. */
function manifestPlaceholders(value: unknown): string[] {
  if (typeof value === 'string') {
    const match = placeholderPattern.exec(value);
    return match ? [match[1]] : [];
  }
  if (Array.isArray(value)) return value.flatMap(manifestPlaceholders);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(manifestPlaceholders);
  return [];
}

test('package.nls.json defines every placeholder', () => {
  const undefinedKeys = manifestPlaceholders(manifest).filter((key) => typeof nls[key] !== 'string');
  assert.deepEqual(undefinedKeys, []);
});

test('package.nls.json has no unused key', () => {
  const used = new Set(manifestPlaceholders(manifest));
  assert.deepEqual(
    Object.keys(nls).filter((key) => !used.has(key)),
    [],
  );
});

test('package.nls.json values are not empty', () => {
  const empty = Object.entries(nls).filter(([, value]) => typeof value !== 'string' || value.trim().length === 0).map(([key]) => key);
  assert.deepEqual(empty, []);
});

#!/usr/bin/env node
'use strict';
// Entry point of the `engram` command; the CLI itself is bundled into dist/cli.js by `npm run build`.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const bundle = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(bundle)) {
  process.stderr.write('engram: dist/cli.js is missing. Run "npm run build" in the Engram Studio folder first.\n');
  process.exit(1);
}
require(bundle);

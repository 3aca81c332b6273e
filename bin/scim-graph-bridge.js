#!/usr/bin/env node
// Runs the compiled CLI (npm run build; npm install and npm ci build through `prepare`).
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'index.js');
if (!existsSync(entry)) {
  process.stderr.write('scim-graph-bridge is not built: run "npm run build" (npm install does it through "prepare")\n');
  process.exit(1);
}
require(entry);

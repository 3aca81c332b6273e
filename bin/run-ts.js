#!/usr/bin/env node
// Runs a TypeScript entry point through tsx (development only: benchmarks and scripts).
'use strict';
const path = require('node:path');
require('tsx/cjs');
const entry = process.argv[2];
process.argv.splice(1, 2, path.resolve(entry));
require(path.resolve(entry));

#!/usr/bin/env node
'use strict';
require('tsx/cjs');
require('../src/cli/index.ts');

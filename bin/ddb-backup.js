#!/usr/bin/env node
// `ddb-backup` CLI: runs the TypeScript entry through tsx, so `npx ddb-backup` works from a clone.
'use strict';
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
require('tsx/cjs');
require('./ddb-backup.ts');

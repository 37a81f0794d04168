#!/usr/bin/env node
// `ddb-backup` CLI: runs the TypeScript entry through tsx, so `npx ddb-backup` works from a clone.
'use strict';
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
// A successful command keeps stderr quiet: the SDK's Node.js version notice shows only with --verbose.
if (!process.argv.slice(2).includes('--verbose')) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
require('tsx/cjs');
require('./ddb-backup.ts');

#!/usr/bin/env node
// The `sluice` command. Sluice ships as TypeScript source; tsx compiles it on load,
// so `npx sluice` works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

// Sluice runs on Node 20; the AWS SDK's notice about its future Node 22 floor is not for users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// File writes, fsyncs and renames of concurrent S3 PUTs, log group commits and lake reads all
// run on libuv's pool; its default of 4 threads queues them behind each other. Read once, at the
// pool's first use, so it must be set before any file I/O.
process.env.UV_THREADPOOL_SIZE ??= '16';
register();
await import('../src/cli/main.ts');

#!/usr/bin/env node
// The `sluice` command. Sluice ships as TypeScript source; tsx compiles it on load,
// so `npx sluice` works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

// Sluice runs on Node 20; the AWS SDK's notice about its future Node 22 floor is not for users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../src/cli/main.ts');

#!/usr/bin/env node
// The `sluice` command. Sluice ships as TypeScript source; tsx compiles it on load,
// so `npx sluice` works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

// Runs the test files of one kind with Node's own test runner (through tsx).
//   unit:        src/**/*.test.ts  (no I/O beyond temp directories)
//   integration: test/integration/**/*.test.ts and test/e2e/**/*.test.ts (real sockets, real clients)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const kind = process.argv[2] ?? 'unit';
const roots = kind === 'unit' ? ['src'] : ['test/integration', 'test/e2e'];

/** Lists the *.test.ts files under a folder, sorted. */
function find(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = roots.flatMap(find).filter((f) => !process.argv[3] || f.includes(process.argv[3]));
if (files.length === 0) {
  console.error(`No ${kind} test files found.`);
  process.exit(1);
}
const concurrency = kind === 'unit' ? '2' : '1';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);

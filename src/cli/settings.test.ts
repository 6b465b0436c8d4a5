/**
 * Server settings: the console's tile URL from the config file, the environment winning over
 * it, and a template without its placeholders refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings } from './settings.ts';

const TILES = 'https://tiles.example.com/{z}/{x}/{y}.png';

test('the console tile URL comes from the config file, and SLUICE_TILE_URL wins over it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-settings-'));
  try {
    const config = join(dir, 'sluice.json');
    await writeFile(config, JSON.stringify({ console: { tileUrl: TILES } }));
    assert.equal((await resolveSettings({ config }, {})).console?.tileUrl, TILES);
    const other = 'http://127.0.0.1:9000/{z}/{x}/{y}.png';
    assert.equal((await resolveSettings({ config }, { SLUICE_TILE_URL: other })).console?.tileUrl, other);
    assert.equal((await resolveSettings({}, {})).console?.tileUrl, undefined);

    await writeFile(config, JSON.stringify({ console: { tileUrl: 'https://tiles.example.com/map.png' } }));
    await assert.rejects(resolveSettings({ config }, {}), /\{z\}, \{x\} and \{y\}/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

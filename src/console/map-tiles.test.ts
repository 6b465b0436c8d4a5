/** Map views at one ground scale on both axes, and the slippy-map tiles that cover them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fitView, latitudeOf, mercatorY, METRES_PER_DEGREE, niceDistance, tilesFor } from './map-tiles.ts';

/** The six demo locations. */
const POINTS = [
  { lat: 37.7068476, lon: -122.4191599 },
  { lat: 37.7071763, lon: -122.4190397 },
  { lat: 37.7072686, lon: -122.4187016 },
  { lat: 37.7070334, lon: -122.4184393 },
  { lat: 37.7066541, lon: -122.4181399 },
  { lat: 37.7067618, lon: -122.4186191 },
];

test('Mercator ordinates invert back to latitudes', () => {
  fc.assert(
    fc.property(
      fc.double({ min: -85, max: 85, noNaN: true }),
      (lat) => Math.abs(latitudeOf(mercatorY(lat)) - lat) < 1e-9,
    ),
  );
  assert.ok(Math.abs(mercatorY(0)) < 1e-12);
  assert.ok(Math.abs(mercatorY(45) - 50.498987) < 1e-5);
});

test('a view holds every point and has the same ground scale across and up', () => {
  for (const mercator of [false, true]) {
    const view = fitView(POINTS, 500, 300, mercator);
    for (const p of POINTS) {
      const [x, y] = view.project(p.lat, p.lon);
      assert.ok(x > view.xMin && x < view.xMax && y > view.yMin && y < view.yMax);
    }
    const cos = Math.cos((37.707 * Math.PI) / 180);
    // Metres per pixel across: a degree of longitude is cos(latitude) of a degree of latitude.
    const across = ((view.xMax - view.xMin) * METRES_PER_DEGREE * cos) / 500;
    const up = mercator
      ? ((view.yMax - view.yMin) * METRES_PER_DEGREE * cos) / 300
      : ((view.yMax - view.yMin) * METRES_PER_DEGREE) / 300;
    assert.ok(Math.abs(across / up - 1) < 1e-3, `${across} vs ${up} m/px`);
    assert.ok(Math.abs(view.metresPerPixel / up - 1) < 1e-3);
    // The six locations span about 90 m east-west.
    assert.ok(across * 500 > 90 && across * 500 < 200, `${across * 500} m across`);
  }
});

test('the tiles cover the view, and a point lands in the tile the slippy-map formula names', () => {
  const view = fitView(POINTS, 500, 300, true);
  const tiles = tilesFor(view, 'https://tiles.example/{z}/{x}/{y}.png');
  assert.ok(tiles.length >= 1 && tiles.length <= 9, `${tiles.length} tiles`);
  const first = tiles[0]!;
  assert.ok(first.left <= 0 && first.top <= 0);
  const last = tiles.at(-1)!;
  assert.ok(last.left + last.size >= 500 && last.top + last.size >= 300);
  assert.ok(first.size >= 256 && first.size < 512);
  const p = POINTS[0]!;
  const [x, y] = view.project(p.lat, p.lon);
  const px = (x - view.xMin) * view.pixelsPerDegree;
  const py = (view.yMax - y) * view.pixelsPerDegree;
  const hit = tiles.find((t) => px >= t.left && px < t.left + t.size && py >= t.top && py < t.top + t.size)!;
  const [, z, tx, ty] = /\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(hit.url)!.map(Number);
  const n = 2 ** z!;
  const phi = (p.lat * Math.PI) / 180;
  assert.equal(tx, Math.floor(((p.lon + 180) / 360) * n));
  assert.equal(ty, Math.floor(((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * n));
});

test('scale bars use round distances', () => {
  assert.equal(niceDistance(23), 20);
  assert.equal(niceDistance(67), 50);
  assert.equal(niceDistance(1400), 1000);
  assert.equal(niceDistance(0.7), 0.5);
});

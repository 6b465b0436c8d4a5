/**
 * The arithmetic of map visuals: the view that fits a set of points at one scale on both
 * axes, and, when a tile URL is configured, which slippy-map tiles cover that view and where
 * each is drawn. Pure code shared by the pages and their tests.
 *
 * Without tiles the projection is equirectangular (x = longitude scaled by cos(latitude),
 * y = latitude); with tiles it is Web Mercator, as the tiles are. Coordinates on the axes are
 * "projected degrees": longitude for x, and for y latitude (plain) or the Mercator ordinate
 * expressed in degrees, so that one unit is the same length on both axes.
 *
 * @see https://wiki.openstreetmap.org/wiki/Slippy_map_tilenames
 */

/** Metres per degree of latitude (mean). */
export const METRES_PER_DEGREE = 111_320;

/** Mercator ordinate of a latitude, in degrees. */
export function mercatorY(lat: number): number {
  const phi = (Math.max(-85.05112878, Math.min(85.05112878, lat)) * Math.PI) / 180;
  return (Math.log(Math.tan(Math.PI / 4 + phi / 2)) * 180) / Math.PI;
}

/** Latitude of a Mercator ordinate in degrees. */
export function latitudeOf(y: number): number {
  return ((2 * Math.atan(Math.exp((y * Math.PI) / 180)) - Math.PI / 2) * 180) / Math.PI;
}

/** A view of the map: axis ranges in projected degrees and the plot's scale. */
export interface MapView {
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
  /** Pixels per degree of the x axis (longitude); in the Mercator view the y axis has the same. */
  readonly pixelsPerDegree: number;
  /** Metres per pixel at the view's centre. */
  readonly metresPerPixel: number;
  /** Projects a point to axis coordinates. */
  project(lat: number, lon: number): [number, number];
  /** The latitude of a y-axis coordinate. */
  latitude(y: number): number;
}

/**
 * The view that shows every point on a plot of `width` × `height` pixels at one scale on
 * both axes, with a margin so no point sits on the edge.
 */
export function fitView(
  points: readonly { readonly lat: number; readonly lon: number }[],
  width: number,
  height: number,
  mercator: boolean,
): MapView {
  const lats = points.map((p) => p.lat);
  const midLat = lats.length > 0 ? (Math.min(...lats) + Math.max(...lats)) / 2 : 0;
  const cos = Math.cos((midLat * Math.PI) / 180);
  // Equirectangular: x is longitude × cos(midLat) so both axes are in the same degrees.
  const project = (lat: number, lon: number): [number, number] =>
    mercator ? [lon, mercatorY(lat)] : [lon, lat];
  const xScale = mercator ? 1 : cos;
  const projected = points.map((p) => project(p.lat, p.lon));
  const xs = projected.map((p) => p[0]);
  const ys = projected.map((p) => p[1]);
  const midX = xs.length > 0 ? (Math.min(...xs) + Math.max(...xs)) / 2 : 0;
  const midY = ys.length > 0 ? (Math.min(...ys) + Math.max(...ys)) / 2 : 0;
  // Spans in "equal" units: for the equirectangular case x degrees shrink by cos(latitude).
  const spanX = Math.max(xs.length > 0 ? (Math.max(...xs) - Math.min(...xs)) * xScale : 0, 1e-5);
  const spanY = Math.max(ys.length > 0 ? Math.max(...ys) - Math.min(...ys) : 0, 1e-5);
  const plotW = Math.max(1, width);
  const plotH = Math.max(1, height);
  const unitsPerPixel = Math.max(spanX / plotW, spanY / plotH) * 1.25;
  const halfX = (plotW * unitsPerPixel) / 2 / xScale;
  const halfY = (plotH * unitsPerPixel) / 2;
  // A projected Mercator degree is cos(latitude) of a degree of latitude on the ground.
  const metresPerUnit = mercator ? METRES_PER_DEGREE * cos : METRES_PER_DEGREE;
  return {
    xMin: midX - halfX,
    xMax: midX + halfX,
    yMin: midY - halfY,
    yMax: midY + halfY,
    pixelsPerDegree: (1 / unitsPerPixel) * xScale,
    metresPerPixel: unitsPerPixel * metresPerUnit,
    project,
    latitude: (y) => (mercator ? latitudeOf(y) : y),
  };
}

/** One tile to draw: its URL and its place on the plot in pixels (top-left, size). */
export interface PlacedTile {
  readonly url: string;
  readonly left: number;
  readonly top: number;
  readonly size: number;
}

/** The tiles of `template` (`{z}`, `{x}`, `{y}`) that cover a Mercator view. */
export function tilesFor(view: MapView, template: string, maxZoom = 19): PlacedTile[] {
  const ppd = view.pixelsPerDegree;
  // At zoom z a tile is 256 px and 360 / 2^z projected degrees wide; pick the zoom whose
  // tiles are drawn at 256–512 px, scaling them up a little rather than down.
  const zoom = Math.max(0, Math.min(maxZoom, Math.floor(Math.log2((ppd * 360) / 256))));
  const n = 2 ** zoom;
  const degreesPerTile = 360 / n;
  const size = degreesPerTile * ppd;
  const tileX = (x: number): number => Math.floor((x + 180) / degreesPerTile);
  const tileY = (y: number): number => Math.floor((180 - y) / degreesPerTile);
  const tiles: PlacedTile[] = [];
  for (let ty = Math.max(0, tileY(view.yMax)); ty <= Math.min(n - 1, tileY(view.yMin)); ty++) {
    for (let tx = tileX(view.xMin); tx <= tileX(view.xMax); tx++) {
      const wrapped = ((tx % n) + n) % n;
      tiles.push({
        url: template.replace('{z}', String(zoom)).replace('{x}', String(wrapped)).replace('{y}', String(ty)),
        left: (tx * degreesPerTile - 180 - view.xMin) * ppd,
        top: (view.yMax - (180 - ty * degreesPerTile)) * ppd,
        size,
      });
    }
  }
  return tiles;
}

/** A round distance at most `metres` (1, 2 or 5 × a power of ten). */
export function niceDistance(metres: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(metres, 1e-6)));
  return [5, 2, 1].map((k) => k * power).find((d) => d <= metres) ?? power;
}

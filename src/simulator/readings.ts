/**
 * The reference scenario's sensors and their readings: each sensor follows a sine wave,
 * temp = round((sin(x) + 1) * temp_max + 65, 2), x = 0, 0.1, … 19.9 (200 readings a cycle).
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

/** temp_max of the six reference sensors, in `seed-data/sensor.csv` order. */
export const TEMP_MAX: readonly number[] = [25, 10, 7, 30, 5, 12];

/** Readings in one sine cycle (x from 0 to 19.9 by 0.1). */
export const STEPS_PER_CYCLE = 200;

/** A sensor from sensor.csv. */
export interface Sensor {
  /** The sensor's id column. */
  readonly id: number;
  /** The sensor's guid, sent in every reading. */
  readonly guid: string;
}

/** One reading as the sensors send it. */
export interface Reading {
  /** The sensor's guid. */
  readonly guid: string;
  /** Epoch seconds when the reading was taken. */
  readonly ts: number;
  /** Temperature, two decimals. */
  readonly temp: number;
}

/** The test message guid. */
export const TEST_GUID = 'test-guid-test-guid-test-guid';

/** Reads the sensors (id, guid) from a sensor CSV with a header row, in file order. */
export async function readSensors(csvPath: string): Promise<{ id: number; guid: string }[]> {
  const rows = parse(await readFile(csvPath), {
    columns: true,
    bom: true,
    skip_empty_lines: true,
    trim: true,
  }) as Record<string, string | undefined>[];
  return rows.map((row, i) => {
    const id = Number(row.id);
    const guid = row.guid ?? '';
    if (!Number.isInteger(id) || guid === '') {
      throw new Error(`${csvPath}: row ${i + 2} needs an integer id and a guid`);
    }
    return { id, guid };
  });
}

/** temp_max for the sensor at this position in the file (the six reference values, repeated). */
export function tempMaxFor(sensorIndex: number): number {
  return TEMP_MAX[sensorIndex % TEMP_MAX.length] as number;
}

/**
 * The reading of a sensor at a step: x = (step mod 200) * 0.1, so steps 200–399 (the second
 * cycle) repeat steps 0–199. Pure.
 */
export function sensorReading(
  sensor: { readonly guid: string },
  step: number,
  tempMax: number,
  nowSec: number,
): Reading {
  const x = (step % STEPS_PER_CYCLE) * 0.1;
  return { guid: sensor.guid, ts: nowSec, temp: round2((Math.sin(x) + 1) * tempMax + 65) };
}

/**
 * A reading as the record bytes: `{"guid": "...", "ts": 1764108000, "temp": 99.99}`, the
 * spacing of Python's json.dumps that the reference simulator used, and no trailing newline.
 */
export function encodeReading(reading: Reading): string {
  return `{"guid": ${JSON.stringify(reading.guid)}, "ts": ${reading.ts}, "temp": ${reading.temp}}`;
}

/** The single test message. */
export function testMessage(nowSec: number): string {
  return `{"guid":"${TEST_GUID}","ts":${nowSec},"temp":999.99}`;
}

/**
 * Rounds to two decimals as Python's round(v, 2) does for these values: toFixed rounds the
 * exact binary value, so 1.005 (really 1.00499…) gives 1.0 as in Python, unlike Math.round.
 */
function round2(value: number): number {
  return Number(value.toFixed(2));
}

/**
 * The reference scenario's dashboard: readings over time per sensor, the map of average
 * temperature per location, messages per sensor, and the ingest latency histogram. It reads
 * the view `sensor.sensor_readings`, which joins each reading to its active sensor's
 * INSTALLED history row (so each reading counts once). The sensor's label is made on the six
 * sensor rows before the join, not on every reading.
 */
import type { DashboardSpec } from './visuals.ts';

/** The view the demo dashboard reads (Redshift SQL). */
export const DEMO_VIEW_SQL = `
CREATE OR REPLACE VIEW sensor.sensor_readings AS
SELECT m.id, m.guid, m.ts, m.temp, m.created,
       s.label AS sensor,
       l.description AS location, l.lat, l.long,
       extract(epoch from m.created) - m.ts AS latency
FROM sensor.message m
JOIN (SELECT id, guid, 'Sensor ' || id AS label FROM sensor.sensor WHERE active) s ON s.guid = m.guid
JOIN sensor.sensors f ON f.sensor_id = s.id
JOIN sensor.history h ON h.id = f.history_id AND h.action = 'INSTALLED'
JOIN sensor.location l ON l.id = f.location_id
`;

/** Id of the demo dashboard. */
export const DEMO_DASHBOARD_ID = 'demo';

/** The demo dashboard. */
export const DEMO_DASHBOARD: DashboardSpec = {
  id: DEMO_DASHBOARD_ID,
  name: 'Sensor readings (demo)',
  filters: { range: 'all' },
  visuals: [
    {
      id: 'messages',
      title: 'Messages loaded',
      kind: 'kpi',
      source: { table: 'sensor.message' },
      time: 'ts',
      timeEpoch: 'seconds',
      aggregation: 'count',
    },
    {
      id: 'temperature',
      title: 'Temperature per sensor',
      kind: 'line',
      source: { table: 'sensor.sensor_readings' },
      time: 'ts',
      timeEpoch: 'seconds',
      dimension: 'sensor',
      measure: 'temp',
      aggregation: 'avg',
      bucket: 'auto',
      maxPoints: 3000,
    },
    {
      id: 'map',
      title: 'Average temperature per location',
      kind: 'map',
      source: { table: 'sensor.sensor_readings' },
      time: 'ts',
      timeEpoch: 'seconds',
      latitude: 'lat',
      longitude: 'long',
      dimension: 'location',
      measure: 'temp',
      aggregation: 'avg',
    },
    {
      id: 'per-sensor',
      title: 'Messages per sensor',
      kind: 'bar',
      source: { table: 'sensor.sensor_readings' },
      time: 'ts',
      timeEpoch: 'seconds',
      dimension: 'sensor',
      aggregation: 'count',
    },
    {
      id: 'latency',
      title: 'Ingest latency, recorded to loaded (s)',
      kind: 'histogram',
      source: { table: 'sensor.sensor_readings' },
      time: 'ts',
      timeEpoch: 'seconds',
      measure: 'latency',
      bins: 20,
    },
  ],
};

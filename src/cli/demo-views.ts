/**
 * The five views analysts query in the scenario, written in Redshift SQL with the idioms
 * analysts use there (epoch arithmetic, DATEDIFF with bare dateparts, GETDATE(), a SELECT
 * list that refers to an alias defined earlier in the same list). Each reading joins its
 * active sensor's INSTALLED history row, so it appears once.
 */

/** The join from a reading to its sensor, location and install record. */
const READING_JOIN = `
FROM sensor.message AS e
JOIN sensor.sensor AS s ON s.guid = e.guid
JOIN sensor.sensors AS f ON f.sensor_id = s.id
JOIN sensor.history AS h ON h.id = f.history_id
JOIN sensor.location AS l ON l.id = f.location_id
JOIN sensor.manufacturer AS m ON m.id = f.manufacturer_id
WHERE s.active IS TRUE AND h.action = 'INSTALLED'`;

/** CREATE OR REPLACE VIEW statements for the five analyst views, in schema `sensor`. */
export const ANALYST_VIEWS_SQL = `
CREATE OR REPLACE VIEW sensor.sensor_msg_detail AS
SELECT ('1970-01-01'::date + e.ts * interval '1 second') AS recorded_time,
       e.ts AS ts,
       e.created AS created,
       e.temp AS temp,
       s.id AS sensor_id,
       s.sku AS sensor_sku,
       s.mac AS sensor_mac,
       m.name AS manufacturer,
       l.lat AS lat,
       l.long AS long,
       l.description AS location,
       ('1970-01-01'::date + h.serviced * interval '1 second') AS installed_time,
       e.guid AS guid${READING_JOIN}
ORDER BY ts DESC;

CREATE OR REPLACE VIEW sensor.sensor_msg_count AS
SELECT count(e.temp) AS msg_count,
       s.id AS sensor_id,
       s.sku AS sensor_sku,
       l.description AS location${READING_JOIN}
GROUP BY s.id, s.sku, l.description
ORDER BY msg_count DESC, sensor_id;

CREATE OR REPLACE VIEW sensor.sensor_avg_temp AS
SELECT avg(e.temp) AS avg_temp,
       count(s.id) AS msg_count,
       s.id AS sensor_id,
       l.lat AS lat,
       l.long AS long,
       l.description AS location${READING_JOIN}
GROUP BY s.id, l.lat, l.long, l.description
ORDER BY avg_temp DESC, sensor_id;

CREATE OR REPLACE VIEW sensor.sensor_avg_temp_current AS
SELECT avg(e.temp) AS avg_temp,
       count(s.id) AS msg_count,
       s.id AS sensor_id,
       l.lat AS lat,
       l.long AS long,
       l.description AS location${READING_JOIN}
  AND DATEDIFF(minute, '1970-01-01'::date + e.ts * interval '1 second', GETDATE()) <= 30
GROUP BY s.id, l.lat, l.long, l.description
ORDER BY avg_temp DESC, sensor_id;

CREATE OR REPLACE VIEW sensor.message_latency AS
SELECT e.guid AS guid,
       e.temp AS temp,
       ('1970-01-01'::date + e.ts * interval '1 second') AS recorded_time,
       e.created AS created,
       DATEDIFF(seconds, recorded_time, created) AS latency
FROM sensor.message AS e
ORDER BY created DESC;
`;

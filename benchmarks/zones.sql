-- The zone logic of `stedi run` (default options) as plain SQL that both DuckDB and Spark
-- run: the benchmark's floor and its Spark reference. No validation, quarantine, checks,
-- lineage, pseudonyms or history. Inputs are the views customer, accelerometer and
-- step_trainer. Each statement makes one view, which the runner writes as Parquet.

CREATE OR REPLACE TEMPORARY VIEW customer_landing AS
SELECT * FROM customer;

CREATE OR REPLACE TEMPORARY VIEW accelerometer_landing AS
SELECT * FROM accelerometer;

CREATE OR REPLACE TEMPORARY VIEW step_trainer_landing AS
SELECT * FROM step_trainer;

CREATE OR REPLACE TEMPORARY VIEW customer_trusted AS
SELECT *
FROM (
    SELECT
        *,
        lower(trim(email)) AS email_key,
        row_number() OVER (
            PARTITION BY lower(trim(email)) ORDER BY lastUpdateDate DESC
        ) AS recency
    FROM customer
) AS latest
WHERE recency = 1 AND shareWithResearchAsOfDate IS NOT NULL;

CREATE OR REPLACE TEMPORARY VIEW accelerometer_trusted AS
SELECT DISTINCT a.user, a.timestamp, a.x, a.y, a.z, c.email_key
FROM accelerometer AS a
INNER JOIN customer_trusted AS c ON lower(trim(a.user)) = c.email_key;

CREATE OR REPLACE TEMPORARY VIEW owners AS
SELECT DISTINCT lower(trim(c.email)) AS email_key, c.serialNumber
FROM customer AS c
INNER JOIN customer_trusted AS t ON lower(trim(c.email)) = t.email_key;

CREATE OR REPLACE TEMPORARY VIEW step_trainer_trusted AS
SELECT sensorReadingTime, serialNumber, distanceFromObject
FROM (
    SELECT
        s.*,
        row_number() OVER (
            PARTITION BY s.serialNumber, s.sensorReadingTime ORDER BY s.distanceFromObject
        ) AS copy
    FROM step_trainer AS s
    WHERE EXISTS (
        SELECT 1
        FROM owners AS o
        INNER JOIN accelerometer_trusted AS a ON o.email_key = a.email_key
        WHERE o.serialNumber = s.serialNumber AND a.timestamp = s.sensorReadingTime
    )
) AS attributable
WHERE copy = 1;

CREATE OR REPLACE TEMPORARY VIEW customer_curated AS
SELECT c.*
FROM customer_trusted AS c
WHERE EXISTS (SELECT 1 FROM accelerometer_trusted AS a WHERE a.email_key = c.email_key);

CREATE OR REPLACE TEMPORARY VIEW machine_learning_curated AS
SELECT s.sensorReadingTime, s.serialNumber, s.distanceFromObject, a.x, a.y, a.z, a.email_key
FROM step_trainer_trusted AS s
INNER JOIN owners AS o ON s.serialNumber = o.serialNumber
INNER JOIN accelerometer_trusted AS a
    ON a.email_key = o.email_key AND a.timestamp = s.sensorReadingTime;

-- step_trainer_landing: every step-trainer source record, typed, with its first problem.
-- grain: one source record
-- key: _batch_id, _source_file, _record_number
-- invariant: reject_reason is null exactly for the rows that land; the rest go to quarantine.
--   Fields outside the contract are kept, as one JSON object, in _extra_fields.

with source_records as (
    select * from source_fields
),

-- The contract's fields, found by their exact names.
found as (
    select
        *,
        found_fields(
            record,
            [
                '$.sensorReadingTime', '$.serialNumber', '$.distanceFromObject'
            ]
        ) as found
    from source_records
),

extracted as (
    select
        *,
        field(found, 1, record, keys, 'sensorReadingTime') as time_field,
        field(found, 2, record, keys, 'serialNumber') as serial_field,
        field(found, 3, record, keys, 'distanceFromObject') as distance_field
    from found
),

typed as (
    select
        *,
        as_bigint(time_field) as sensorReadingTime,
        as_text(serial_field) as serialNumber,
        as_bigint(distance_field) as distanceFromObject
    from extracted
),

checked as (
    select
        *,
        case
            when json_problem is not null then null
            -- The common case, decided cheaply: only the contract's keys, every value
            -- read, the serial not blank, the time sane.
            when
                len(keys) = list_aggregate(found.kinds, 'count')
                and sensorReadingTime is not null
                and epoch_ms_problem(sensorReadingTime) is null
                and serialNumber is not null
                and strip(serialNumber) <> ''
                and distanceFromObject is not null
                then null
            when repeats_a_key(
                keys, ['sensorreadingtime', 'serialnumber', 'distancefromobject']
            ) then {field: null, reason: 'duplicate_key'}
            else first_problem([
            {field: 'sensorReadingTime',
             reason: field_problem(time_field, sensorReadingTime, true)},
            {field: 'sensorReadingTime', reason: epoch_ms_problem(sensorReadingTime)},
            {field: 'serialNumber',
             reason: field_problem(serial_field, serialNumber, true)},
            {field: 'distanceFromObject',
             reason: field_problem(distance_field, distanceFromObject, true)}
        ]) end as problem
    from typed
),

final as (
    select
        sensorReadingTime,
        serialNumber,
        distanceFromObject,
        reading_at(sensorReadingTime) as reading_at,
        reading_at(sensorReadingTime)::date as reading_date,
        _source_file,
        _line_number,
        _record_number,
        getvariable('batch_id') as _batch_id,
        getvariable('ingested_at')::timestamptz as _ingested_at,
        case
            -- More keys than the contract's fields found by name: new fields, or a known
            -- one spelled in another case.
            when
                coalesce(json_problem, problem.reason) is null
                and len(keys) > list_aggregate(found.kinds, 'count') then extra_fields(
                record, keys, ['sensorreadingtime', 'serialnumber', 'distancefromobject']
            )
        end as _extra_fields,
        raw,
        coalesce(json_problem, problem.reason) as reject_reason,
        problem.field as reject_field
    from checked
)

select * from final

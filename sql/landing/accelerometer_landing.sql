-- accelerometer_landing: every accelerometer source record, typed, with its first problem.
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
                '$.user', '$.timestamp', '$.x', '$.y', '$.z'
            ]
        ) as found
    from source_records
),

extracted as (
    select
        *,
        field(found, 1, record, keys, 'user') as user_field,
        field(found, 2, record, keys, 'timestamp') as timestamp_field,
        field(found, 3, record, keys, 'x') as x_field,
        field(found, 4, record, keys, 'y') as y_field,
        field(found, 5, record, keys, 'z') as z_field
    from found
),

typed as (
    select
        *,
        as_text(user_field) as user,  -- noqa: AL03
        as_bigint(timestamp_field) as timestamp,
        as_double(x_field) as x,
        as_double(y_field) as y,
        as_double(z_field) as z
    from extracted
),

checked as (
    select
        *,
        case
            when json_problem is not null then null
            -- The common case, decided cheaply: only the contract's keys, every value
            -- read, the user not blank, the time sane.
            when
                len(keys) = list_aggregate(found.kinds, 'count')
                and user is not null
                and strip(user) <> ''
                and timestamp is not null
                and epoch_ms_problem(timestamp) is null
                and x is not null
                and y is not null
                and z is not null
                then null
            when repeats_a_key(keys, ['user', 'timestamp', 'x', 'y', 'z'])
                then {field: null, reason: 'duplicate_key'}
            else first_problem([
            {field: 'user', reason: field_problem(user_field, user, true)},
            {field: 'timestamp',
             reason: field_problem(timestamp_field, timestamp, true)},
            {field: 'timestamp', reason: epoch_ms_problem(timestamp)},
            {field: 'x', reason: field_problem(x_field, x, true)},
            {field: 'y', reason: field_problem(y_field, y, true)},
            {field: 'z', reason: field_problem(z_field, z, true)}
        ]) end as problem
    from typed
),

final as (
    select
        user,  -- noqa: AL03
        timestamp,
        x,
        y,
        z,
        reading_at(timestamp) as reading_at,
        reading_at(timestamp)::date as reading_date,
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
                and len(keys) > list_aggregate(found.kinds, 'count')
                then extra_fields(record, keys, ['user', 'timestamp', 'x', 'y', 'z'])
        end as _extra_fields,
        raw,
        coalesce(json_problem, problem.reason) as reject_reason,
        problem.field as reject_field
    from checked
)

select * from final

-- accelerometer_landing: every accelerometer source record, typed, with its first problem.
-- grain: one source record
-- key: _batch_id, _source_file, _line_number
-- invariant: reject_reason is null exactly for the rows that land; the rest go to quarantine.

with source_records as (
    select * from source_fields
),

extracted as (
    select
        *,
        field(record, keys, 'user') as user_json,
        field(record, keys, 'timestamp') as timestamp_json,
        field(record, keys, 'x') as x_json,
        field(record, keys, 'y') as y_json,
        field(record, keys, 'z') as z_json
    from source_records
),

typed as (
    select
        *,
        as_text(user_json) as user,  -- noqa: AL03
        as_bigint(timestamp_json) as timestamp,
        as_double(x_json) as x,
        as_double(y_json) as y,
        as_double(z_json) as z
    from extracted
),

checked as (
    select
        *,
        case when json_problem is null then first_problem([
            {field: 'user', reason: field_problem(keys, 'user', user_json, user, true)},
            {field: 'timestamp',
             reason: field_problem(keys, 'timestamp', timestamp_json, timestamp, true)},
            {field: 'timestamp', reason: epoch_ms_problem(timestamp)},
            {field: 'x', reason: field_problem(keys, 'x', x_json, x, true)},
            {field: 'y', reason: field_problem(keys, 'y', y_json, y, true)},
            {field: 'z', reason: field_problem(keys, 'z', z_json, z, true)}
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
        getvariable('batch_id') as _batch_id,
        getvariable('ingested_at')::timestamptz as _ingested_at,
        raw,
        coalesce(json_problem, problem.reason) as reject_reason,
        problem.field as reject_field
    from checked
)

select * from final

-- accelerometer_landing: every accelerometer source record, typed, with its first problem.
-- grain: one source record
-- key: _batch_id, _source_file, _line_number
-- invariant: reject_reason is null exactly for the rows that land; the rest go to quarantine.

with source_records as (
    select * from source_fields
),

typed as (
    select
        *,
        as_text(field(fields, 'user')) as user,
        as_bigint(field(fields, 'timestamp')) as timestamp,
        as_double(field(fields, 'x')) as x,
        as_double(field(fields, 'y')) as y,
        as_double(field(fields, 'z')) as z
    from source_records
),

checked as (
    select
        *,
        case when json_problem is null then first_problem([
            {field: 'user', reason: field_problem(fields, 'user', user, true)},
            {field: 'timestamp', reason: field_problem(fields, 'timestamp', timestamp, true)},
            {field: 'timestamp', reason: reading_time_problem(timestamp)},
            {field: 'x', reason: field_problem(fields, 'x', x, true)},
            {field: 'y', reason: field_problem(fields, 'y', y, true)},
            {field: 'z', reason: field_problem(fields, 'z', z, true)}
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

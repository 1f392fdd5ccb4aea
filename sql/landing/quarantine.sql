-- quarantine: every rejected source record of this batch, with the reason it was rejected.
-- grain: one rejected source record
-- key: batch_id, source_file, line_number
-- invariant: together with the landing tables, holds every source record exactly once.

with customer as (
    select 'customer' as dataset, * from staged_customer
),

accelerometer as (
    select 'accelerometer' as dataset, * from staged_accelerometer
),

step_trainer as (
    select 'step_trainer' as dataset, * from staged_step_trainer
),

rejected as (
    select dataset, _source_file, _line_number, raw, reject_reason, reject_field,
        _batch_id, _ingested_at
    from customer where reject_reason is not null
    union all
    select dataset, _source_file, _line_number, raw, reject_reason, reject_field,
        _batch_id, _ingested_at
    from accelerometer where reject_reason is not null
    union all
    select dataset, _source_file, _line_number, raw, reject_reason, reject_field,
        _batch_id, _ingested_at
    from step_trainer where reject_reason is not null
),

final as (
    select
        dataset,
        _source_file as source_file,
        _line_number as line_number,
        raw,
        reject_reason as reason,
        reject_field as field,
        _batch_id as batch_id,
        _ingested_at as ingested_at
    from rejected
)

select * from final

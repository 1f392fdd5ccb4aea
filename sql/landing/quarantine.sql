-- quarantine: every rejected source record of this batch, with the reason it was rejected.
-- grain: one rejected source record
-- key: batch_id, source_file, record_number
-- invariant: together with the landing tables, holds every source record exactly once.
--   A rejected customer record keeps every email that appears in its text and its
--   lastUpdateDate when that is unambiguous, so that the trusted zone can hold those
--   customers back: a withdrawal may hide in it.

with customer as (
    select
        'customer' as dataset,
        *,
        -- Even of a truncated line, a repeated key or a record quoted twice.
        emails_in(raw) as customer_emails,
        -- A time out of range (epoch seconds, zero) is no time, whichever field failed.
        case
            when reject_field <> 'lastUpdateDate' and epoch_ms_problem(lastUpdateDate) is null
                then lastUpdateDate
        end as last_update_date
    from staged_customer
    where reject_reason is not null
),

accelerometer as (
    select
        'accelerometer' as dataset,
        *,
        null::varchar[] as customer_emails,
        null::bigint as last_update_date
    from staged_accelerometer
    where reject_reason is not null
),

step_trainer as (
    select
        'step_trainer' as dataset,
        *,
        null::varchar[] as customer_emails,
        null::bigint as last_update_date
    from staged_step_trainer
    where reject_reason is not null
),

rejected as (
    select dataset, _source_file, _line_number, _record_number, raw, reject_reason, reject_field,
        _batch_id, _ingested_at, customer_emails, last_update_date
    from customer
    union all
    select dataset, _source_file, _line_number, _record_number, raw, reject_reason, reject_field,
        _batch_id, _ingested_at, customer_emails, last_update_date
    from accelerometer
    union all
    select dataset, _source_file, _line_number, _record_number, raw, reject_reason, reject_field,
        _batch_id, _ingested_at, customer_emails, last_update_date
    from step_trainer
),

final as (
    select
        dataset,
        _source_file as source_file,
        _line_number as line_number,
        _record_number as record_number,
        raw,
        reject_reason as reason,
        reject_field as field,
        _batch_id as batch_id,
        _ingested_at as ingested_at,
        customer_emails,
        last_update_date
    from rejected
)

select * from final

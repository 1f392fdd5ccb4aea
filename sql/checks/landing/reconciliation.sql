-- reconciliation: nothing lost. For every landed file, its source records equal its landing
--   rows plus its quarantine rows, as the manifest counts them, and no landing or
--   quarantine row lacks a landed file.
-- grain: one (source file, batch) whose counts disagree
-- key: source_file, batch_id

with landed_files as (
    select * from landed_files
),

landed_rows as (
    select _source_file as source_file, _batch_id as batch_id, false as rejected
    from customer_landing
    union all
    select _source_file, _batch_id, false as rejected from accelerometer_landing
    union all
    select _source_file, _batch_id, false as rejected from step_trainer_landing
    union all
    select source_file, batch_id, true as rejected from quarantine
),

recorded as (
    select
        source_file,
        batch_id,
        count(*) as rows_recorded,
        count(*) filter (where not rejected) as rows_landed,
        count(*) filter (where rejected) as rows_quarantined
    from landed_rows
    group by source_file, batch_id
),

final as (
    select
        coalesce(landed_files.source_file, recorded.source_file) as source_file,
        coalesce(landed_files.batch_id, recorded.batch_id) as batch_id,
        landed_files.records as source_records,
        coalesce(recorded.rows_recorded, 0) as rows_recorded
    from landed_files
    full outer join recorded
        on landed_files.source_file = recorded.source_file
        and landed_files.batch_id = recorded.batch_id
    where
        landed_files.records is distinct from coalesce(recorded.rows_recorded, 0)
        or landed_files.landed is distinct from coalesce(recorded.rows_landed, 0)
        or landed_files.quarantined is distinct from coalesce(recorded.rows_quarantined, 0)
)

select * from final

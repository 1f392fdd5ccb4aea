-- current_files: the landed versions of each source file whose rows count: its latest
--   version, and, when that version holds no valid record (empty, unreadable, cut short
--   before its first record: a file caught while it is rewritten), also its latest
--   version that does.
-- grain: one (source file, batch)
-- key: source_file, batch_id
-- invariant: landing and quarantine rows count only from these (batch, file) pairs, so a
--   file re-sent with new content supersedes its old rows instead of doubling them, and a
--   hollow re-send cannot take a file's records (a withdrawal of consent) out of the lake.

with landed_files as (
    select * from landed_files
),

ranked as (
    select
        batch_id,
        source_file,
        landed > 0 as has_records,
        row_number() over (
            partition by source_file order by batch_id desc
        ) as recency,
        row_number() over (
            partition by source_file order by landed > 0 desc, batch_id desc
        ) as recency_with_records
    from landed_files
),

final as (
    select batch_id, source_file
    from ranked
    where recency = 1 or (recency_with_records = 1 and has_records)
)

select * from final

-- current_files: the landed version of each source file, the latest batch that landed it.
-- grain: one source file
-- key: source_file
-- invariant: landing and quarantine rows count only from these (batch, file) pairs, so a
--   file re-sent with new content supersedes its old rows instead of doubling them.

with landed_files as (
    select * from landed_files
),

latest as (
    select batch_id, source_file
    from landed_files
    qualify row_number() over (partition by source_file order by batch_id desc) = 1
)

select * from latest

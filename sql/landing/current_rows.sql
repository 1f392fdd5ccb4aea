-- current_rows: the rows each landing table and quarantine hold, from the manifest.
-- grain: one table
-- key: table_name
-- invariant: equals count(*) of each table as queries see it (committed, current file
--   versions), since each landed_files row counts its file's landed and quarantined
--   records.

with current_manifest as (
    select *
    from landed_files
    where (batch_id, source_file) in (from current_files)
),

landed as (
    select
        dataset || '_landing' as table_name,
        sum(landed) as row_count
    from current_manifest
    group by dataset
),

quarantined as (
    select
        'quarantine' as table_name,
        sum(quarantined) as row_count
    from current_manifest
)

select table_name, row_count::bigint as row_count from landed
union all
select table_name, coalesce(row_count, 0)::bigint as row_count from quarantined

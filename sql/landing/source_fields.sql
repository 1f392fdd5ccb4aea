-- source_fields: every non-blank source line, parsed once: its JSON object and keys.
-- grain: one source record
-- key: _source_file, _record_number
-- invariant: one row per row of raw_records; json_problem is null only for a JSON object
--   (whose repeated keys, if any, the landing model of its dataset rejects).

with source_records as (
    select * from raw_records
),

validated as (
    select
        *,
        json_valid(raw) as is_json
    from source_records
),

typed as (
    select
        *,
        case when is_json then json_type(raw) end as json_kind
    from validated
),

parsed as (
    select
        *,
        case when json_kind = 'OBJECT' then raw end as object,
        case when json_kind = 'OBJECT' then json_keys(raw) end as object_keys
    from typed
),

final as (
    select
        _source_file,
        _line_number,
        _record_number,
        raw,
        case
            -- The whole file: it could not be read or decompressed; raw says why.
            when unreadable then 'unreadable_file'
            -- The reader turns invalid UTF-8 bytes into U+FFFD and flags their records.
            when invalid_utf8 then 'invalid_utf8'
            when not is_json then 'invalid_json'
            when json_kind <> 'OBJECT' then 'not_an_object'
        end as json_problem,
        object as record,
        object_keys as keys
    from parsed
)

select * from final

-- source_fields: every non-blank source line, parsed once into its list of fields.
-- grain: one source record (_source_file, _line_number)
-- key: _source_file, _line_number
-- invariant: one row per row of raw_records; json_problem is set exactly when fields is null.

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
        case when is_json then json_type(raw::json) end as json_kind
    from validated
),

parsed as (
    select
        *,
        case
            when json_kind = 'OBJECT' then json_transform(raw, '"MAP(VARCHAR, JSON)"')
        end as field_map
    from typed
),

fields as (
    select
        _source_file,
        _line_number,
        raw,
        list_transform(
            map_entries(field_map), lambda e: {k: lower(e.key), v: e.value}
        ) as fields,
        case
            -- The reader turns invalid UTF-8 bytes into U+FFFD; such a line is not trusted.
            when contains(raw, chr(65533)) then 'invalid_utf8'
            when not is_json then 'invalid_json'
            when json_kind <> 'OBJECT' then 'not_an_object'
            -- DuckDB reads an object that repeats a key as no map at all.
            when field_map is null then 'duplicate_key'
        end as json_problem
    from parsed
)

select * from fields

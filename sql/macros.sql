-- Macros shared by the landing models: reading typed values out of a parsed JSON record.
-- A record's fields are a list of {k: lower-cased key, v: JSON value}, so that field names
-- match case-insensitively (`timeStamp` is `timestamp`). A JSON null value reads as SQL NULL.

create macro field(fields, name) as
    list_filter(fields, lambda f: f.k = name)[1].v;

create macro has_field(fields, name) as
    len(list_filter(fields, lambda f: f.k = name)) > 0;

-- Scalars read as text (a phone number sent as a number stays its digits); objects and
-- arrays are not text.
create macro as_text(j) as
    case when json_type(j) not in ('OBJECT', 'ARRAY') then j ->> '$' end;

-- Numbers sent as strings are accepted; an integral double (1.655e12) is an integer.
create macro as_bigint(j) as
    case
        when json_type(j) in ('OBJECT', 'ARRAY', 'BOOLEAN') then null
        when try_cast(j ->> '$' as bigint) is not null then try_cast(j ->> '$' as bigint)
        when try_cast(j ->> '$' as double) = trunc(try_cast(j ->> '$' as double))
            then try_cast(try_cast(j ->> '$' as double) as bigint)
    end;

create macro as_double(j) as
    case
        when json_type(j) in ('OBJECT', 'ARRAY', 'BOOLEAN') then null
        when isfinite(try_cast(j ->> '$' as double)) then try_cast(j ->> '$' as double)
    end;

create macro as_date(j) as
    try_cast(as_text(j) as date);

-- Why a field fails, or NULL when it is fine. `value` is the field read with its type.
create macro field_problem(fields, name, value, required) as
    case
        when required and not has_field(fields, name) then 'missing_field'
        when required and (field(fields, name) is null or trim(as_text(field(fields, name))) = '')
            then 'null_field'
        when field(fields, name) is not null and value is null then 'wrong_type'
    end;

-- Reading times are epoch milliseconds between 2000 and 2100; epoch seconds fall outside.
create macro reading_time_problem(ms) as
    case
        when ms is not null
            and (ms < 946684800000 or ms >= 4102444800000) then 'timestamp_out_of_range'
    end;

-- The UTC time of a reading, for sane reading times only (no overflow on wild values).
create macro reading_at(ms) as
    case when reading_time_problem(ms) is null then make_timestamptz(ms * 1000) end;

-- The first problem of a record, as {field, reason}, or NULL for a valid record.
create macro first_problem(problems) as
    list_filter(problems, lambda p: p.reason is not null)[1];

-- The pseudonymous customer id: HMAC-SHA256 of the normalised email under the lake's key.
-- The variables key_ipad / key_opad hold the key XOR-ed with the HMAC pads (RFC 2104).
create macro customer_id(email) as
    sha256(
        getvariable('key_opad')
        || unhex(sha256(getvariable('key_ipad') || encode(lower(trim(email)))))
    );

create macro normal_email(email) as
    lower(trim(email));

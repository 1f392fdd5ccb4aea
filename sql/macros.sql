-- Macros shared by the landing models: reading typed values out of a JSON record.
-- Each landing model reads its fields from the record in two passes (`found`: the JSON
-- type and the scalar text at each of the exact field names); a field whose name the
-- record spells in another case (`timeStamp` for `timestamp`) is the fallback, read by the
-- record's own key (`keys`: its json_keys). Keys that differ only in case are rejected as
-- duplicate_key before fields are read.

create macro found_fields(record, paths) as
    {kinds: json_type(record, paths), texts: json_extract_string(record, paths)};

-- The record's key that spells `name` in any case, if any.
create macro key_in_any_case(keys, name) as
    list_filter(keys, lambda k: lower(k) = lower(name))[1];

-- Field `i` of `found`, named `name`: {kind: its JSON type, text: its scalar text}; a
-- field that is absent has kind NULL, one that is JSON null has kind 'NULL'.
create macro field(found, i, record, keys, name) as
    case
        when found.kinds[i] is not null then {kind: found.kinds[i], text: found.texts[i]}
        else {
            kind: json_type(record -> key_in_any_case(keys, name)),
            text: record ->> key_in_any_case(keys, name)
        }
    end;

-- Whether the record gives a key twice, or a field of the contract (`known`, lower case)
-- twice in different cases (`timestamp` and `timeStamp`): which value would count? The
-- landing models ask only of records off their common case, which repeat no key: hashing
-- every record's keys would cost more than all else the models do.
create macro repeats_a_key(keys, known) as
    len(keys) <> len(list_distinct(keys))
    or len(list_filter(keys, lambda k: list_contains(known, lower(k))))
    > len(list_distinct(list_transform(
        list_filter(keys, lambda k: list_contains(known, lower(k))), lambda k: lower(k::varchar)
    )));

-- Strings and numbers read as text (a phone number sent as a number stays its digits);
-- booleans, objects and arrays are not text.
create macro as_text(f) as
    case when f.kind in ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE') then f.text end;

-- A decimal number, also when sent as a string; not hex, not `1_000`, not NaN or Infinity.
create macro as_number(f) as
    case
        when f.kind in ('BIGINT', 'UBIGINT', 'DOUBLE') then try_cast(f.text as double)
        when
            f.kind = 'VARCHAR'
            and regexp_full_match(trim(f.text), '-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?')
            then try_cast(trim(f.text) as double)
    end;

-- An integer, also when sent as a string or as an integral double (1.655e12); a
-- fraction is a wrong type, never rounded.
create macro as_bigint(f) as
    case
        when f.kind = 'BIGINT' then try_cast(f.text as bigint)
        when regexp_full_match(trim(f.text), '-?\d+(\.0*)?') then try_cast(trim(f.text) as bigint)
        -- Digits after the point, short of an exponent, make a fraction however small.
        when regexp_matches(f.text, '\.\d*[1-9]') and not regexp_matches(f.text, '[eE]') then null
        when as_number(f) = trunc(as_number(f)) then try_cast(as_number(f) as bigint)
    end;

create macro as_double(f) as
    case when isfinite(as_number(f)) then as_number(f) end;

-- A calendar date written Y-MM-DD (the course data has 3-digit years; not `epoch`, not
-- with a time), years 1 to 9999.
create macro as_date(f) as
    case
        when
            regexp_full_match(trim(as_text(f)), '\d{1,4}-\d{2}-\d{2}')
            and try_cast(trim(as_text(f)) as date) >= date '0001-01-01'
            then try_cast(trim(as_text(f)) as date)
    end;

-- Text without leading and trailing white space, control and format characters, Unicode's
-- included (U+3000, U+2028, U+200B, U+FEFF, ...).
create macro strip(s) as
    regexp_replace(s, '^[\p{Z}\p{Cc}\p{Cf}]+|[\p{Z}\p{Cc}\p{Cf}]+$', '', 'g');

-- Why a field fails, or NULL when it is fine: `f` is the field, `value` it read with its type.
create macro field_problem(f, value, required) as
    case
        when required and f.kind is null then 'missing_field'
        when required and (f.kind = 'NULL' or (f.kind = 'VARCHAR' and strip(f.text) = ''))
            then 'null_field'
        when f.kind <> 'NULL' and value is null then 'wrong_type'
    end;

-- Reading times, and the customer feed's dates, are epoch milliseconds between 2000 and
-- 2100; epoch seconds, zero and negative values fall outside.
create macro epoch_ms_problem(ms) as
    case
        when ms is not null
            and (ms < 946684800000 or ms >= 4102444800000) then 'timestamp_out_of_range'
    end;

-- The UTC time of a reading, for sane reading times only (no overflow on wild values).
create macro reading_at(ms) as
    case when epoch_ms_problem(ms) is null then make_timestamptz(ms * 1000) end;

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
    lower(strip(email));

-- The JSON strings in a text, the last one perhaps cut short, with their escapes read
-- where they can be (a malformed escape leaves a string as written).
create macro json_strings(raw) as
    list_transform(
        regexp_extract_all(raw, '"((?:[^"\\]|\\.)*)"?', 1),
        lambda s: coalesce(try(json_extract_string('"' || s || '"', '$')), s)
    );

-- The name@domain tokens in a text.
create macro email_tokens(text) as
    regexp_extract_all(text, '[^\s"''\\,;:<>()\[\]{}]+@[^\s"''\\,;:<>()\[\]{}]+');

-- Every email a rejected customer record's text may name, normalised: each JSON string in
-- it that holds an @, and each name@domain token in the text and in those strings. A record
-- cut short, quoted twice, written as a Python dict, or with escaped keys or characters
-- still names its customer; naming too many only holds a customer back: privacy errs
-- that way.
create macro emails_in(raw) as
    list_distinct(list_transform(
        list_concat(
            list_filter(json_strings(raw), lambda s: contains(s, '@')),
            email_tokens(raw),
            flatten(list_transform(json_strings(raw), lambda s: email_tokens(s)))
        ),
        lambda e: normal_email(e)
    ));

-- The record's fields outside the landing contract (`known`, lower case) as a JSON object,
-- or NULL when there are none: a field new to the feed is kept, and breaks nothing. The
-- known fields, in the case the record spells them, are removed by a JSON merge patch
-- (RFC 7396) that sets them to null.
create macro extra_fields(record, keys, known) as
    case
        when len(list_filter(keys, lambda k: not list_contains(known, lower(k)))) > 0
            then json_merge_patch(record, to_json(map_from_entries(list_transform(
                list_filter(keys, lambda k: list_contains(known, lower(k))),
                lambda k: {key: k, value: 'null'::json}
            ))))::varchar
    end;

-- no_direct_identifiers: curated tables carry no name, email, phone or birthday column,
--   and no value that looks like an email address.
-- grain: one offending column or value
-- key: table_name, column_name

with curated_columns as (
    select table_name, column_name
    from information_schema.columns
    where table_schema = 'staged'
        and table_name in ('customer_curated', 'machine_learning_curated')
),

identifier_columns as (
    select table_name, column_name
    from curated_columns
    where lower(column_name) in (
        'customername', 'email', 'email_key', 'user', 'phone', 'birthday'
    )
),

email_values as (
    select 'customer_curated' as table_name, 'customer_id' as column_name
    from customer_curated
    where customer_id like '%@%'
    union all
    select 'machine_learning_curated' as table_name, 'customer_id' as column_name
    from machine_learning_curated
    where customer_id like '%@%'
),

final as (
    select * from identifier_columns
    union all
    select * from email_values
)

select * from final

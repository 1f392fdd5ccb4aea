-- consent: no curated row belongs to a customer whose latest landing record lacks research
--   consent, nor, under the `since-consent` policy, predates the customer's consent.
-- grain: one offending curated row
-- key: table_name, customer_id

with customer_landing as (
    select * from customer_landing
),

-- Each customer's current consent, worked out from landing, apart from the trusted models.
current_state as (
    select
        customer_id(normal_email(email)) as customer_id,
        max({
            updated: lastUpdateDate,
            batch: _batch_id,
            file: _source_file,
            line: _line_number,
            consent: shareWithResearchAsOfDate
        }).consent as consented_at
    from customer_landing
    group by normal_email(email)
),

consenting as (
    select * from current_state where consented_at is not null
),

leaked_customers as (
    select 'customer_curated' as table_name, customer_id
    from customer_curated
    where customer_curated.customer_id not in (select consenting.customer_id from consenting)
),

leaked_readings as (
    select 'machine_learning_curated' as table_name, customer_id
    from machine_learning_curated
    where not exists (
        select 1 from consenting
        where consenting.customer_id = machine_learning_curated.customer_id
            and (
                getvariable('consent_policy') = 'customer'
                or machine_learning_curated.sensorReadingTime >= consenting.consented_at
            )
    )
),

final as (
    select * from leaked_customers
    union all
    select * from leaked_readings
)

select * from final

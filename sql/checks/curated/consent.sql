-- consent: no curated row belongs to a customer whose latest landing record lacks research
--   consent or is held back by an as recent quarantined record, nor, under the
--   `since-consent` policy, predates the customer's consent.
-- grain: one offending curated row
-- key: table_name, customer_id

with consenting as (
    select
        customer_id(email_key) as customer_id,
        consented_at
    from consenting_customers
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

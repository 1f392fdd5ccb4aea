-- consent: no curated row belongs to a customer whose latest landing record lacks research
--   consent or is held back by an as recent quarantined record, nor, under the
--   `since-consent` policy, predates the customer's consent.
-- grain: one offending curated row
-- key: table_name, customer_id

with customer_landing as (
    select * from customer_landing
),

quarantine as (
    select * from quarantine
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
        }).consent as consented_at,
        max(lastUpdateDate) as updated
    from customer_landing
    group by normal_email(email)
),

-- A rejected customer record whose lastUpdateDate could not be read counts as the latest.
rejected as (
    select
        customer_id(normal_email(customer_email)) as customer_id,
        coalesce(last_update_date, 9223372036854775807) as updated
    from quarantine
    where dataset = 'customer' and customer_email is not null
),

consenting as (
    select current_state.*
    from current_state
    where
        current_state.consented_at is not null
        and not exists (
            select 1 from rejected
            where
                rejected.customer_id = current_state.customer_id
                and rejected.updated >= current_state.updated
        )
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

-- consenting_customers: who may be in trusted and curated, worked out from landing and
--   quarantine apart from the trusted models, for the consent checks of both zones.
-- grain: one consenting customer
-- key: email_key
-- invariant: the customer's latest record grants research consent and no quarantined
--   record of the customer is as recent as it.

with customer_landing as (
    select * from customer_landing
),

quarantine as (
    select * from quarantine
),

-- Each customer's current consent, worked out apart from customer_trusted.sql.
current_state as (
    select
        normal_email(email) as email_key,
        max({
            updated: lastUpdateDate,
            batch: _batch_id,
            file: _source_file,
            record: _record_number,
            consent: shareWithResearchAsOfDate
        }).consent as consented_at,
        max(lastUpdateDate) as updated
    from customer_landing
    group by normal_email(email)
),

-- A rejected customer record whose lastUpdateDate could not be read counts as the latest.
rejected as (
    select
        unnest(customer_emails) as email_key,
        coalesce(last_update_date, 9223372036854775807) as updated
    from quarantine
    where dataset = 'customer'
),

consenting as (
    select current_state.*
    from current_state
    where
        current_state.consented_at is not null
        and not exists (
            select 1 from rejected
            where
                rejected.email_key = current_state.email_key
                and rejected.updated >= current_state.updated
        )
)

select * from consenting

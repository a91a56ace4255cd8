-- Demo data for local development (runs after the migrations on `supabase db reset`).
-- Fixed ids are referenced by docs and tests. Re-running is harmless (ON CONFLICT / NOT EXISTS).
-- Closure dates are computed from now() in the clinic's zone, never hard-coded years.

-- Orgs ---------------------------------------------------------------------------------------------
insert into public.orgs (id, name, timezone, phone_region, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values
  ('11111111-1111-4111-8111-111111111111', 'Sunrise Family Clinic', 'America/New_York', 'US', 30, 60, 120),
  ('22222222-2222-4222-8222-222222222222', 'Bayview Dental', 'America/Los_Angeles', 'US', 30, 60, 90)
on conflict (id) do update
  set name = excluded.name,
      timezone = excluded.timezone,
      phone_region = excluded.phone_region,
      slot_interval_minutes = excluded.slot_interval_minutes,
      min_notice_minutes = excluded.min_notice_minutes,
      booking_horizon_days = excluded.booking_horizon_days;

-- Services -----------------------------------------------------------------------------------------
-- aliases: what callers call each service (matched leniently by private.resolve_service; anything
-- else is refused as unknown_service with the clinic's services named). Staff edit them in Studio.
-- "* vaccine" is a wildcard: any phrase ending in vaccine ("shingles vaccine"). Not "* shot" or
-- "* jab": a botox, allergy, B12 or cortisone shot is no vaccination, so the shots that are vaccines
-- are listed one by one. Complaints ("sore
-- throat", "toothache") are aliases of the visit that takes them: the matcher never guesses that an
-- unknown phrase is a symptom (an "MRI scan" is no consultation), the clinic says which ones are.
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default, aliases)
values
  ('11111111-1111-4111-8111-111111111111', 'consultation', 'Consultation', 30, 0, true,
   '{consult, "doctor''s appointment", "doctor visit", "see the doctor", "see a doctor", "sick visit", "office visit", "follow-up", "follow-up visit", "general appointment", "new patient visit", "new patient appointment", "new patient consultation", "initial visit", "sore throat", fever, cough, cold, earache, "ear infection", rash, sick, "feeling sick", "not feeling well", "feeling unwell"}'),
  ('11111111-1111-4111-8111-111111111111', 'checkup', 'Checkup', 20, 10, false,
   '{check-up, physical, "annual physical", "yearly physical", "physical exam", "annual exam", "annual checkup", "routine checkup", "wellness visit", "wellness exam", "wellness check", "health check", "well visit", "well check", "well-child visit", "full checkup", "complete physical"}'),
  ('11111111-1111-4111-8111-111111111111', 'vaccination', 'Vaccination', 15, 15, false,
   '{"flu shot", "flu jab", "flu vaccine", shot, jab, vaccine, immunization, immunisation, booster, "covid shot", "covid vaccine", "covid booster", "tetanus shot", "tetanus jab", "tetanus booster", "hep b shot", "hepatitis shot", "shingles shot", "pneumonia shot", "hpv shot", "mmr shot", "tdap shot", "covid jab", "booster shot", "travel shots", inoculation, vax, vaxx, "* vaccine", "* vaccination", "* immunization", "* immunisation"}'),
  ('22222222-2222-4222-8222-222222222222', 'cleaning', 'Cleaning', 45, 15, true,
   '{"teeth cleaning", "dental cleaning", "routine cleaning", "scale and polish", hygienist, "hygiene appointment", checkup, check-up, "dental checkup", "six month checkup"}'),
  ('22222222-2222-4222-8222-222222222222', 'consultation', 'Consultation', 30, 0, false,
   '{consult, exam, "dental exam", toothache, "tooth pain", "broken tooth", "chipped tooth", "second opinion", evaluation, "new patient visit", "new patient appointment", "new patient exam", "dental consult", "dental consultation"}'),
  ('22222222-2222-4222-8222-222222222222', 'whitening', 'Whitening', 60, 0, false,
   '{"teeth whitening", "tooth whitening", bleaching, "teeth bleaching", "whiten my teeth", whiten}')
on conflict (org_id, code) do update set aliases = excluded.aliases;

-- Business hours (clinic-local; weekday 0 = Sunday) -------------------------------------------------
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select v.org_id::uuid, v.weekday, v.opens_at::time, v.closes_at::time
from (values
  -- Sunrise: Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 09:00–13:00
  ('11111111-1111-4111-8111-111111111111', 1, '09:00', '12:00'),
  ('11111111-1111-4111-8111-111111111111', 1, '13:00', '17:00'),
  ('11111111-1111-4111-8111-111111111111', 2, '09:00', '12:00'),
  ('11111111-1111-4111-8111-111111111111', 2, '13:00', '17:00'),
  ('11111111-1111-4111-8111-111111111111', 3, '09:00', '12:00'),
  ('11111111-1111-4111-8111-111111111111', 3, '13:00', '17:00'),
  ('11111111-1111-4111-8111-111111111111', 4, '09:00', '12:00'),
  ('11111111-1111-4111-8111-111111111111', 4, '13:00', '17:00'),
  ('11111111-1111-4111-8111-111111111111', 5, '09:00', '12:00'),
  ('11111111-1111-4111-8111-111111111111', 5, '13:00', '17:00'),
  ('11111111-1111-4111-8111-111111111111', 6, '09:00', '13:00'),
  -- Bayview: Mon–Thu 08:00–16:00, Fri 08:00–12:00
  ('22222222-2222-4222-8222-222222222222', 1, '08:00', '16:00'),
  ('22222222-2222-4222-8222-222222222222', 2, '08:00', '16:00'),
  ('22222222-2222-4222-8222-222222222222', 3, '08:00', '16:00'),
  ('22222222-2222-4222-8222-222222222222', 4, '08:00', '16:00'),
  ('22222222-2222-4222-8222-222222222222', 5, '08:00', '12:00')
) as v(org_id, weekday, opens_at, closes_at)
where not exists (
  select 1 from public.business_hours bh
  where bh.org_id = v.org_id::uuid and bh.weekday = v.weekday and bh.opens_at = v.opens_at::time
);

-- Providers (migration 0250) -------------------------------------------------------------------------
-- Sunrise: two physicians on different weekdays (any one consultation or checkup slot has exactly one
-- physician: Dr. Patel Mon/Wed/Fri and Saturday mornings, Dr. Lee Tue/Thu) and a nurse who only
-- vaccinates, whenever the clinic is open (no provider_hours rows). Bayview: a dentist for exams
-- (consultation, whitening) all clinic hours, two hygienists for cleanings with a lunch rotation
-- (Dana 12:00–13:00, Omar 13:00–14:00), so cleanings have capacity 2 except at lunch. The
-- health-check clinic (migration 0800) keeps its one provider. The provider each clinic got from the
-- orgs trigger (named after the clinic) is replaced while it has no appointments. Roles (what a caller
-- may say instead of a name: "the nurse", "a hygienist"): physician, nurse, dentist, hygienist.
insert into public.providers (org_id, id, display_name, short_names, role, color)
values
  ('11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-00000000d001', 'Dr. Anika Patel', '{"Dr. Patel", "Anika"}', 'physician', '#2E7D32'),
  ('11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-00000000d002', 'Dr. Marcus Lee', '{"Dr. Lee", "Marcus"}', 'physician', '#1565C0'),
  ('11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-00000000e001', 'Nurse Joy Kim', '{"Nurse Kim", "Joy"}', 'nurse', '#AD1457'),
  ('22222222-2222-4222-8222-222222222222', '22222222-2222-4222-8222-00000000d001', 'Dr. Sofia Reyes', '{"Dr. Reyes", "Sofia"}', 'dentist', '#6A1B9A'),
  ('22222222-2222-4222-8222-222222222222', '22222222-2222-4222-8222-00000000c001', 'Dana Whitfield', '{"Dana"}', 'hygienist', '#00838F'),
  ('22222222-2222-4222-8222-222222222222', '22222222-2222-4222-8222-00000000c002', 'Omar Haddad', '{"Omar"}', 'hygienist', '#EF6C00')
on conflict (org_id, id) do update
  set display_name = excluded.display_name, short_names = excluded.short_names, role = excluded.role,
      color = excluded.color, active = true;

delete from public.providers p
 using public.orgs o
 where o.id = p.org_id
   and p.org_id in ('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222')
   and p.display_name = o.name
   and not exists (select 1 from public.appointments a where a.org_id = p.org_id and a.provider_id = p.id);

insert into public.provider_services (org_id, provider_id, service_id)
select p.org_id, p.id, s.id
from (values
  ('11111111-1111-4111-8111-00000000d001', 'consultation'),
  ('11111111-1111-4111-8111-00000000d001', 'checkup'),
  ('11111111-1111-4111-8111-00000000d002', 'consultation'),
  ('11111111-1111-4111-8111-00000000d002', 'checkup'),
  ('11111111-1111-4111-8111-00000000e001', 'vaccination'),
  ('22222222-2222-4222-8222-00000000d001', 'consultation'),
  ('22222222-2222-4222-8222-00000000d001', 'whitening'),
  ('22222222-2222-4222-8222-00000000c001', 'cleaning'),
  ('22222222-2222-4222-8222-00000000c002', 'cleaning')
) as v(provider_id, code)
join public.providers p on p.id = v.provider_id::uuid
join public.services s on s.org_id = p.org_id and s.code = v.code
on conflict do nothing;

-- Working hours (clinic-local; intersected with the clinic's hours, so the clinic's lunch break holds)
insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
select p.org_id, p.id, v.weekday, v.opens_at::time, v.closes_at::time
from (values
  -- Dr. Patel: Mon, Wed, Fri all day, Saturday morning
  ('11111111-1111-4111-8111-00000000d001', 1, '09:00', '17:00'),
  ('11111111-1111-4111-8111-00000000d001', 3, '09:00', '17:00'),
  ('11111111-1111-4111-8111-00000000d001', 5, '09:00', '17:00'),
  ('11111111-1111-4111-8111-00000000d001', 6, '09:00', '13:00'),
  -- Dr. Lee: Tue, Thu
  ('11111111-1111-4111-8111-00000000d002', 2, '09:00', '17:00'),
  ('11111111-1111-4111-8111-00000000d002', 4, '09:00', '17:00'),
  -- Dana: lunch 12:00-13:00; Omar: lunch 13:00-14:00 (Mon-Fri; Friday the clinic closes at noon)
  ('22222222-2222-4222-8222-00000000c001', 1, '08:00', '12:00'), ('22222222-2222-4222-8222-00000000c001', 1, '13:00', '16:00'),
  ('22222222-2222-4222-8222-00000000c001', 2, '08:00', '12:00'), ('22222222-2222-4222-8222-00000000c001', 2, '13:00', '16:00'),
  ('22222222-2222-4222-8222-00000000c001', 3, '08:00', '12:00'), ('22222222-2222-4222-8222-00000000c001', 3, '13:00', '16:00'),
  ('22222222-2222-4222-8222-00000000c001', 4, '08:00', '12:00'), ('22222222-2222-4222-8222-00000000c001', 4, '13:00', '16:00'),
  ('22222222-2222-4222-8222-00000000c001', 5, '08:00', '12:00'),
  ('22222222-2222-4222-8222-00000000c002', 1, '08:00', '13:00'), ('22222222-2222-4222-8222-00000000c002', 1, '14:00', '16:00'),
  ('22222222-2222-4222-8222-00000000c002', 2, '08:00', '13:00'), ('22222222-2222-4222-8222-00000000c002', 2, '14:00', '16:00'),
  ('22222222-2222-4222-8222-00000000c002', 3, '08:00', '13:00'), ('22222222-2222-4222-8222-00000000c002', 3, '14:00', '16:00'),
  ('22222222-2222-4222-8222-00000000c002', 4, '08:00', '13:00'), ('22222222-2222-4222-8222-00000000c002', 4, '14:00', '16:00'),
  ('22222222-2222-4222-8222-00000000c002', 5, '08:00', '12:00')
) as v(provider_id, weekday, opens_at, closes_at)
join public.providers p on p.id = v.provider_id::uuid
where not exists (
  select 1 from public.provider_hours ph
  where ph.org_id = p.org_id and ph.provider_id = p.id and ph.weekday = v.weekday and ph.opens_at = v.opens_at::time
);

-- Closures -----------------------------------------------------------------------------------------
-- Sunrise: New Year's Day of next year (clinic-local whole day). Open on Dec 25.
insert into public.closures (org_id, during, reason)
select '11111111-1111-4111-8111-111111111111', r.during, 'New Year''s Day'
from (
  select tstzrange(
           make_date(y, 1, 1)::timestamp at time zone 'America/New_York',
           make_date(y, 1, 2)::timestamp at time zone 'America/New_York',
           '[)') as during
  from (select extract(year from now() at time zone 'America/New_York')::int + 1 as y) as yy
) as r
where not exists (
  select 1 from public.closures c
  where c.org_id = '11111111-1111-4111-8111-111111111111' and c.during = r.during
);

-- Bayview: Dec 24 12:00 – Dec 26 00:00 of the current year, or next year once that has passed.
insert into public.closures (org_id, during, reason)
select '22222222-2222-4222-8222-222222222222', r.during, 'Christmas'
from (
  select tstzrange(
           (make_date(y, 12, 24) + time '12:00')::timestamp at time zone 'America/Los_Angeles',
           make_date(y, 12, 26)::timestamp at time zone 'America/Los_Angeles',
           '[)') as during
  from (
    select case
             when (now() at time zone 'America/Los_Angeles')
                  < make_date(extract(year from now() at time zone 'America/Los_Angeles')::int, 12, 26)::timestamp
               then extract(year from now() at time zone 'America/Los_Angeles')::int
             else extract(year from now() at time zone 'America/Los_Angeles')::int + 1
           end as y
  ) as yy
) as r
where not exists (
  select 1 from public.closures c
  where c.org_id = '22222222-2222-4222-8222-222222222222' and c.during = r.during
);

-- Vapi mappings ------------------------------------------------------------------------------------
insert into public.vapi_assistants (org_id, assistant_id, phone_number_id, label)
values
  ('11111111-1111-4111-8111-111111111111', 'asst_sunrise_sarah', 'pn_sunrise_main', 'Sarah (Sunrise front desk)'),
  ('22222222-2222-4222-8222-222222222222', 'asst_bayview_marcy', null, 'Marcy (Bayview front desk)')
on conflict do nothing;

-- Dashboard users ----------------------------------------------------------------------------------
insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data)
values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'authenticated', 'authenticated', 'staff@sunrise.example', '{}', '{}'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'authenticated', 'authenticated', 'owner@bayview.example', '{}', '{}')
on conflict (id) do nothing;

insert into public.org_members (org_id, user_id, role)
values
  ('11111111-1111-4111-8111-111111111111', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'staff'),
  ('22222222-2222-4222-8222-222222222222', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'owner')
on conflict (org_id, user_id) do nothing;

-- Assistant prompts (migration 0700) ---------------------------------------------------------------
-- The clinics' own prompts; `flask --app api prompts show/sync` wraps them in the enforced
-- system-authority block. Plain text, no dates or years: those come from the block at call time.
update public.vapi_assistants
   set assistant_name = 'Sarah',
       custom_prompt = $prompt$You are Sarah, the friendly front-desk receptionist of Sunrise Family Clinic.
Greet callers warmly, keep answers short (one or two sentences), and sound calm and unhurried.
Help callers book, check, cancel or move appointments. We offer consultations (30 minutes),
checkups and vaccinations; if the caller is unsure, a consultation is the right default.
We are open Monday to Friday 9 to 12 and 1 to 5, and Saturday 9 to 1.
Before booking, confirm the caller's name, the day and the time back to them.
If someone describes an emergency, tell them to hang up and call 911.$prompt$
 where assistant_id = 'asst_sunrise_sarah' and custom_prompt is null;

update public.vapi_assistants
   set assistant_name = 'Marcy',
       custom_prompt = $prompt$You are Marcy, the receptionist of Bayview Dental.
Be upbeat and efficient. Most callers want a cleaning (45 minutes); we also do consultations and
whitening. We are open Monday to Thursday 8 to 4 and Friday 8 to noon.
Repeat the booked day and time once at the end of the call.
For tooth pain or swelling, offer the earliest available time.$prompt$
 where assistant_id = 'asst_bayview_marcy' and custom_prompt is null;

-- Calls (migration 0750) ---------------------------------------------------------------------------
-- Sunrise takes transfers to its front desk Mon–Fri 09:00–17:00 (through lunch, unlike its business
-- hours); Bayview has no front desk number, no settings row and no transfer hours (the defaults,
-- and "no transfers" on every call).
insert into public.clinic_call_settings (org_id, front_desk_number, transcript_retention_days, first_message)
values ('11111111-1111-4111-8111-111111111111', '+12125550142', 30,
        'Thank you for calling Sunrise Family Clinic, this is Sarah. How can I help you today?')
on conflict (org_id) do nothing;

insert into public.transfer_hours (org_id, weekday, opens_at, closes_at)
select '11111111-1111-4111-8111-111111111111', d, '09:00', '17:00'
  from generate_series(1, 5) as d
 where not exists (select 1 from public.transfer_hours t
                    where t.org_id = '11111111-1111-4111-8111-111111111111' and t.weekday = d);

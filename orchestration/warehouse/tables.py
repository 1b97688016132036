"""The documented schemas of the tables the Python assets write (the dbt models document theirs in
YAML): each column's type and meaning, used to create the tables and shown in the Dagster UI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


def _cols(*rows: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)


_OUTBOX = _cols(
    ("action_id", "VARCHAR", "Decision id (primary key): <journey_id>_<step>, or s_<hash> for a skipped user."),
    ("journey_id", "VARCHAR", "Journey id: j_ + a hash of the user, the journey's send day and the strategy; "
     "null for skipped users. One journey per user at a time."),
    ("step", "INTEGER", "Rung of the strategy's ladder (1 = first contact); null for skipped users."),
    ("action_date", "DATE", "Planning day D (the partition): decided on data through the end of D, sent on D + 1."),
    ("user_id", "VARCHAR", "The user."),
    ("channel", "VARCHAR", "push, sms, call or in_app (after the A/B variant); null for control and skipped rows."),
    ("scheduled_at", "TIMESTAMPTZ", "When to send (UTC): due_at, moved to the end of quiet hours in the user's "
     "timezone when it fell inside them; null unless queued."),
    ("timezone", "VARCHAR", "The user's IANA timezone used for quiet hours (library default when unknown)."),
    ("template", "VARCHAR", "Template of the library the message was rendered from (the rendered text, personal "
     "data, is in restricted.recall_messages and the exported outbox files only)."),
    ("benefit", "VARCHAR", "Benefit of the library offered with the step, null when none."),
    ("benefit_kind", "VARCHAR", "The benefit's kind: coupon (a discount the code redeems on an order), gift_pack or "
     "points; null without a benefit (and on rows written before schema version 3)."),
    ("coupon_code", "VARCHAR", "Unique code of the journey's benefit (same on every step offering it)."),
    ("coupon_value", "DOUBLE", "Benefit value: coupons share_of_order x the user's average order over 90 days, "
     "bounded and rounded (currency); gift packs their value; points the number of points."),
    ("strategy_id", "VARCHAR", "Strategy of the library the journey follows (first match by priority)."),
    ("variant", "VARCHAR", "A/B variant of the step ('default' when the step is not tested); null for control."),
    ("arm", "VARCHAR", "treatment, or control (strategy or global holdout: recorded, never contacted)."),
    ("journey_started_at", "TIMESTAMPTZ", "Due time of step 1; a response after it stops the journey "
     "(the delivery system may also suppress a send when the user was active since then)."),
    ("cost", "DOUBLE", "Contact cost of the step's channel (library guardrails), 0 for control and skipped rows."),
    ("library_revision", "VARCHAR", "Revision of the strategy library that took the decision."),
)

TABLES: dict[str, tuple[str, tuple[Column, ...]]] = {
    "raw_landing_log": (
        "What arrived for each feed and landing day, from its latest load (primary key feed, landing_date): the "
        "operator's record of days where nothing arrived (no file, an empty or header-only file), of files "
        "rejected for missing columns or unreadable, and of malformed lines quarantined. A day where nothing "
        "loaded keeps the raw rows an earlier load left.",
        _cols(
            ("feed", "VARCHAR", "events, users or recall_touches (primary key part)."),
            ("landing_date", "DATE", "The landing folder's day (primary key part)."),
            ("status", "VARCHAR", "loaded; no_file (nothing arrived); empty_file (0 bytes, a header alone or no "
             "rows: nothing arrived); rejected_file (a required column missing: no row loaded); unreadable_file "
             "(not readable as its format: no row loaded)."),
            ("source_file", "VARCHAR", "YYYY-MM-DD/<file> of the file read; null when no file arrived."),
            ("file_format", "VARCHAR", "parquet, csv or jsonl; null when no file arrived."),
            ("raw_rows", "BIGINT", "The day's rows in the raw table after the load (rows kept from an earlier load "
             "when nothing loaded)."),
            ("malformed_rows", "BIGINT", "Lines that could not be read into columns (loaded with _load_error, "
             "quarantined as malformed_line)."),
            ("missing_columns", "VARCHAR", "Contract columns the file lacked, comma-separated: optional ones load "
             "as null; a required one rejects the file."),
            ("detail", "VARCHAR", "What happened, in words (e.g. 'header only', the reader's error)."),
            ("loaded_at", "TIMESTAMPTZ", "When this load ran."),
            ("staged_at", "TIMESTAMPTZ", "When a successful dbt step staged the day as loaded; null while a run that "
             "loaded it failed before staging (the next run's dbt step resumes from the earliest such day)."),
        ),
    ),
    "recall_actions": (
        "The outbox history: every recall decision of a day, one row per journey step (treatment and control) "
        "and per skipped user. status queued = in the outbox; holdout = control journey started (measured, never "
        "contacted); cancelled = a step not sent, with the reason; skipped = matched but not recalled.",
        _OUTBOX
        + _cols(
            ("holdout", "VARCHAR", "For control: 'strategy' (the strategy's holdout_share) or 'global' (global holdout)."),
            ("due_at", "TIMESTAMPTZ", "journey_started_at + the step's delay (before quiet hours)."),
            ("priority", "INTEGER", "The strategy's priority (lower first): the first key when a channel's budget or capacity runs out."),
            ("expected_value", "DOUBLE", "Expected return: the stage's wake_probability x revenue_90d / 3; the second key "
             "(higher first) for budget and capacity, and compared with the contact cost for low-value users."),
            ("avg_order_value", "DOUBLE", "revenue_90d / orders_90d when the journey started: the base of coupon values."),
            ("lifecycle_stage", "VARCHAR", "Stage from user_risk_tiers when the journey started."),
            ("risk_level", "VARCHAR", "Risk level when the journey started."),
            ("value_tier", "VARCHAR", "RFM value tier when the journey started."),
            ("segment", "VARCHAR", "Behaviour segment (user_segments) when the journey started."),
            ("special_tier", "VARCHAR", "Vertical special tier (finance partial_churn / large_withdrawal) when it started."),
            ("risk_score", "DOUBLE", "Risk score (0-100) when the journey started."),
            ("status", "VARCHAR", "queued, holdout, cancelled or skipped."),
            ("reason", "VARCHAR", "Why not queued: strategy_holdout / global_holdout, responded (the user came back before "
             "the step was due: the journey ends), no_consent, frequency_cap, over_capacity, over_budget, "
             "missing_variable:<name>, low_expected_value (skipped: expected return below the ladder's contact cost); "
             "for a user the decision left out (skipped), the decision's reason: no_profitable_treatment, over_budget, "
             "over_capacity."),
            # What decided the journey (orchestration/uplift/decisions.py, docs/recall.md "Reading a decision"),
            # the same on every step of it.
            ("treatment_key", "VARCHAR", "The treatment chosen: the strategy and the A/B variants it fixes "
             "(strategy/<step>=<variant>); null under the rules policy (its variants are the hash's)."),
            ("basis", "VARCHAR", "Which step of the choice decided: service, exploration, model or rules (uplift policy); "
             "risk (risk policy); rules (rules policy, or no mature model)."),
            ("decision_reason", "VARCHAR", "The decision's reason: best_expected_profit, exploration, service_strategy, "
             "no_mature_model, treatment_not_modelled, no_profitable_treatment, over_budget, over_capacity, "
             "highest_risk_first, rules_policy (kept apart from reason, which says why a step was not queued)."),
            ("expected_profit", "DOUBLE", "Expected incremental profit of the treatment for the user (uplift in revenue x "
             "margin rate - contact cost - expected benefit cost); null without a model."),
            ("uplift_revenue", "DOUBLE", "The model's expected revenue uplift of the treatment (90 days, or 30 while the "
             "90-day model is not mature); null without a model."),
            ("uplift_wake_up", "DOUBLE", "The model's expected change in the probability of waking up; null without a model."),
            ("uplift_model_version", "VARCHAR", "The uplift model (registry version under models/uplift) that scored the "
             "decision; null when no mature model decided."),
            # The design the journey was assigned under: the sample-ratio check tests each journey against it, not
            # against the library as it is now (docs/measurement.md). Null on rows before schema version 5.
            ("design_holdout_share", "DOUBLE", "The strategy's holdout_share when the journey was assigned (the same on "
             "every step of the journey, treatment and control); null for skipped users."),
            ("design_global_holdout_share", "DOUBLE", "The library's global_holdout_share when the journey was assigned "
             "(the same on every step of the journey); null for skipped users."),
            ("design_variant_share", "DOUBLE", "Treatment steps of an A/B-tested step: the share the library gave the "
             "step's variant when the step was decided; null for untested steps, control and skipped rows."),
        ),
    ),
    "partition_writes": (
        "When each day's rows of a Python step's day-partitioned table were last replaced (primary key table_name, "
        "day): how the measurement's next run tells whether a day of the recall plan was planned again since the day "
        "it would carry its outcome rows from was measured (docs/measurement.md, \"Carried from the last run\"). "
        "Recorded just before the write, so that a run killed in between leaves a record of a write it did not make, "
        "which only costs the next run a full measurement.",
        _cols(
            ("table_name", "VARCHAR", "recall_actions or recall_outcomes (primary key part)."),
            ("day", "DATE", "The day replaced (primary key part): the planning day of recall_actions, the day "
             "recall_outcomes was measured as of."),
            ("written_at", "TIMESTAMPTZ", "When the day's rows were last replaced (the warehouse's clock, UTC)."),
        ),
    ),
    "recall_outbox": (
        "The steps to send: queued treatment rows of recall_actions, exported per day as Parquet and CSV for the "
        "delivery system (with the day's control assignments in holdout/ for its log), only after the blocking "
        "outbox checks have passed, each file renamed into place and <day>.manifest.json (names, rows, SHA-256) "
        "written last. Re-running a day replaces its rows and files.",
        _OUTBOX,
    ),
    "restricted.recall_messages": (
        "The rendered message of each queued step (personal data: it names the user), in the restricted schema "
        "with the other personal data; written with recall_actions and exported with the outbox files, never "
        "kept in the main schema.",
        _cols(
            ("action_id", "VARCHAR", "The step's decision id in recall_actions (primary key)."),
            ("action_date", "DATE", "Planning day D of the decision."),
            ("message", "VARCHAR", "The rendered message (push/SMS text, or the call script)."),
        ),
    ),
    "recall_outcomes": (
        "One row per journey, intent-to-treat: every journey assigned in recall_actions (treatment, including "
        "journeys cancelled before any send, and control), plus journeys that only the delivery log knows; the "
        "delivery log adds the funnel by journey id. Outcome windows are counted in business days from the "
        "assignment day A inclusive; a *_mature flag says whether a window had closed on the day measured "
        "(see docs/measurement.md).",
        _cols(
            ("action_id", "VARCHAR", "Journey id (primary key): recall_actions.journey_id, the id the outbox, the holdout "
             "export and the delivery log's action_id carry; for journeys only the log knows, its action_id."),
            ("user_id", "VARCHAR", "The user."),
            ("strategy_id", "VARCHAR", "Strategy of the campaign."),
            ("arm", "VARCHAR", "treatment or control, as assigned (whether or not anything was sent)."),
            ("assignment_date", "DATE", "A: the business day the journey started (journey_started_at; for journeys only "
             "the log knows, the day of their first scheduled row)."),
            ("lifecycle_stage", "VARCHAR", "The user's stage when the journey was decided (the tiers of A-1); 'unknown' without a tier."),
            ("value_tier", "VARCHAR", "The user's RFM value tier when the journey was decided (A-1); 'unknown' without a tier."),
            ("segment", "VARCHAR", "Behaviour segment when the journey was decided; 'unclassified' without one."),
            ("channel", "VARCHAR", "Treatment: channel of the journey's first step (planned, sent or not); null for control."),
            ("step_variant", "VARCHAR", "Treatment: the A/B variant(s) of its tested steps, joined by '+' (null when no step "
             "is tested, or when the decision chose the variant for the user: basis model or exploration, no random "
             "draw to compare); for journeys only the log knows, the benefit offered, 'coupon_<value>' or 'no_coupon'. Null for control."),
            ("coupon_code", "VARCHAR", "Coupon code the delivery log shows handed out with the journey, null when none."),
            ("holdout", "VARCHAR", "Control journeys: 'strategy' (the strategy's holdout_share) or 'global' (the global "
             "holdout); null for treatment and for journeys only the log knows."),
            ("source", "VARCHAR", "'decisions' (assigned in recall_actions) or 'delivery_log' (known only to the log)."),
            ("first_journey", "BOOLEAN", "The user's first journey in recall_actions (the programme readout compares these); "
             "null for journeys only the log knows."),
            ("design_holdout_share", "DOUBLE", "recall_actions.design_holdout_share: the strategy's holdout share when the "
             "journey was assigned; null when not recorded (journeys only the log knows, decisions before schema "
             "version 5): the sample-ratio check then uses the library's current share."),
            ("design_global_holdout_share", "DOUBLE", "recall_actions.design_global_holdout_share: the global holdout share "
             "when the journey was assigned; null when not recorded (as design_holdout_share)."),
            ("design_variant_share", "DOUBLE", "Treatment with step_variant from the decisions: the probability of its "
             "variants when they were drawn (the product of its tested steps' design_variant_share); null when no step "
             "is tested or a share was not recorded."),
            ("sent", "BOOLEAN", "At least one message was sent (false for control and for treatment never sent)."),
            ("delivered", "BOOLEAN", "At least one message was sent with status delivered."),
            ("opened", "BOOLEAN", "At least one message was opened."),
            ("clicked", "BOOLEAN", "At least one message was clicked."),
            ("responded", "BOOLEAN", "Opened or clicked (the ladder stops at the first response); false for control."),
            ("cost", "DOUBLE", "Sum of the journey's delivery costs (0 for control)."),
            ("pre_period_revenue", "DOUBLE", "Order revenue on days A-30..A-1: the pre-assignment covariate CUPED adjusts with."),
            ("measured_through", "DATE", "Last day of activity seen (capped at A+89+T, T = churn_threshold_days: later days change nothing)."),
            ("days_observed", "INTEGER", "Days A..measured_through."),
            ("wake_up_window_days", "INTEGER", "W: the wake-up window in days (the vertical preset's measurement.wake_up_window_days, "
             "default 7, or CHURN_RECALL_WAKE_UP_DAYS)."),
            ("woke_up", "BOOLEAN", "A key action (the vertical's key_action_events) on days A..A+W-1."),
            ("woke_up_mature", "BOOLEAN", "The wake-up window has closed (measured on or after A+W-1)."),
            ("repurchased_30d", "BOOLEAN", "An order on days A..A+29."),
            ("repurchased_30d_mature", "BOOLEAN", "The 30-day window has closed (measured on or after A+29)."),
            ("revenue_30d", "DOUBLE", "Order revenue on days A..A+29."),
            ("revenue_30d_mature", "BOOLEAN", "The 30-day window has closed."),
            ("revenue_90d", "DOUBLE", "Order revenue on days A..A+89 (the LTV window); observed so far until mature."),
            ("revenue_90d_mature", "BOOLEAN", "The 90-day window has closed (measured on or after A+89)."),
            ("coupon_redeemed", "BOOLEAN", "The journey's own coupon code was used on an order on days A..A+29; null without a coupon."),
            ("coupon_redeemed_mature", "BOOLEAN", "The 30-day redemption window has closed."),
            ("return_date", "DATE", "R: the first key action on days A..A+29 (the user came back); null when none was seen "
             "(final once A+29 has passed)."),
            ("churn_threshold_days", "INTEGER", "T: the churn threshold second churn is judged against, the vertical preset's "
             "stage_churned_days (ecommerce 60, game 30, finance 90)."),
            ("second_churned", "BOOLEAN", "Returned, then no key action for at least T consecutive days after a key action "
             "on R..R+60: churned again (the labels' churned stage). False without a return (from A+29); null until known."),
            ("second_churned_mature", "BOOLEAN", "second_churned is known: the T silent days were seen, or a key action after R+60 "
             "ended every gap shorter than T (at the latest on R+60+T, i.e. A+89+T); without a return, from A+29."),
        ),
    ),
    "recall_metrics": (
        "Per cohort and arm as of each day (the partition). cohort_level says what a row groups: "
        "'campaign' (one strategy on one assignment day; lifecycle_stage = 'all'), 'lifecycle_stage', "
        "'value_tier', 'segment', 'step_variant', 'channel' (the first step's channel), 'variant_contrast' "
        "(each within one campaign), 'week' (campaigns assigned Monday..Sunday, per strategy and strategy_id 'all'), "
        "'overall' (every campaign whose 30-day window has closed, among those assigned in the 90 days up to "
        "as_of_date), 'overall_wake_up' and 'variant_contrast_overall' (the same pool for campaigns whose wake-up "
        "window has closed), 'programme_week' and 'programme_overall' (users' first journeys: everyone eligible "
        "outside the global holdout against the global holdout, by assignment week, and pooled over the weeks "
        "whose wake-up window has closed). Strategy cohorts compare treatment with the strategy's own holdout; "
        "global-holdout journeys only count in the programme cohorts and the sample-ratio check. Rates use the "
        "cohort's journeys in that arm as the denominator unless their column says otherwise. Lifts are treatment "
        "minus control (see control_basis); a cohort that pools campaigns averages the per-campaign lifts weighted "
        "by treatment users. Intervals: estimate +/- 1.96 Welch standard errors (docs/measurement.md).",
        _cols(
            ("assignment_date", "DATE", "Cohort: assignment day A; for 'week' the Monday; for 'overall' the first A pooled."),
            ("strategy_id", "VARCHAR", "Cohort: strategy, or 'all' for week/overall rows pooling strategies."),
            ("lifecycle_stage", "VARCHAR", "Cohort: stage on A-1 for cohort_level 'lifecycle_stage', else 'all'."),
            ("arm", "VARCHAR", "treatment or control."),
            ("as_of_date", "DATE", "Day the metrics were measured on (the partition): only data known that day is used."),
            ("cohort_level", "VARCHAR", "campaign, lifecycle_stage, value_tier, segment, step_variant, channel, "
             "variant_contrast, week, overall, overall_wake_up, variant_contrast_overall, programme_week or programme_overall."),
            ("cohort_value", "VARCHAR", "The value of the cohort's dimension (e.g. the tier, the channel; '<variant> vs "
             "<reference variant>' for contrasts); 'all' for campaign, week, overall and programme rows."),
            ("assignment_end_date", "DATE", "Last assignment day pooled in the cohort (= assignment_date for one campaign)."),
            ("control_basis", "VARCHAR", "What treatment is compared with: same_cohort (the strategy holdout's journeys of "
             "the same cohort), whole_campaign (step_variant and channel: set before anyone responds, inside treatment, so "
             "the campaign's whole strategy holdout), reference_variant (variant contrasts: the 'treatment' row is the "
             "variant, the 'control' row the campaign's reference variant, both treated) or global_holdout (programme: "
             "first journeys outside the global holdout against those inside it)."),
            ("campaigns", "BIGINT", "Campaigns (strategy x assignment day) pooled in the row."),
            ("users", "BIGINT", "Assigned: journeys in the cohort and arm (denominator of every rate but second_churn_rate "
             "and coupon_redemption_rate)."),
            ("sends", "BIGINT", "Funnel: journeys with at least one message sent."),
            ("deliveries", "BIGINT", "Funnel: journeys with at least one message delivered."),
            ("opens", "BIGINT", "Funnel: journeys with at least one open."),
            ("clicks", "BIGINT", "Funnel: journeys with at least one click."),
            ("responses", "BIGINT", "Journeys that opened or clicked."),
            ("conversions", "BIGINT", "Funnel: journeys with an order on days A..A+29 (repurchased_30d)."),
            ("coupon_journeys", "BIGINT", "Journeys that were handed a coupon (denominator of coupon_redemption_rate)."),
            ("second_churn_users", "BIGINT", "Returned journeys (a key action on days A..A+29, so far): the denominator of "
             "second_churn_rate."),
            ("cost", "DOUBLE", "Total delivery cost of the cohort (0 for control)."),
            ("wake_up_rate", "DOUBLE", "Window A..A+W-1 (W = wake_up_window_days): share of journeys with a key action. "
             "Denominator: users. Control: the control row is what happens uncontacted; wake_up_lift = treatment - control."),
            ("repurchase_30d_rate", "DOUBLE", "Window A..A+29: share of journeys with an order. Denominator: users. "
             "Control: repurchase_lift = treatment - control."),
            ("revenue_per_user_30d", "DOUBLE", "Window A..A+29: mean order revenue per journey (zeros included). Denominator: "
             "users. Control: revenue_lift = treatment - control."),
            ("revenue_per_user_90d", "DOUBLE", "Window A..A+89 (LTV): mean order revenue per journey; partial until ltv_mature. "
             "Denominator: users. Control: ltv_90d_lift = treatment - control."),
            ("second_churn_rate", "DOUBLE", "Window: return R on A..A+29, then at least T days without a key action (T = "
             "churn_threshold_days) after a key action on R..R+60. Share of returned journeys seen to churn again so far (final when "
             "second_churn_mature). Denominator: second_churn_users. Control: both arms are measured alike; compare the two "
             "rows (no lift or interval is computed)."),
            ("coupon_redemption_rate", "DOUBLE", "Window A..A+29: share of coupon journeys that used their own code on an order. "
             "Denominator: coupon_journeys. Control: none (control journeys get no coupon)."),
            ("wake_up_mature", "BOOLEAN", "as_of_date >= A+W-1 for every journey pooled: the wake-up rate and its lift are final."),
            ("is_mature", "BOOLEAN", "as_of_date >= A+29 for every campaign pooled: the 30-day metrics are final."),
            ("second_churn_mature", "BOOLEAN", "Every pooled journey's second_churned is known and A+29 has passed: "
             "second_churn_rate is final (at the latest on A+89+T)."),
            ("ltv_mature", "BOOLEAN", "as_of_date >= A+89 for every campaign pooled: the 90-day revenue is final."),
            ("wake_up_window_days", "INTEGER", "W: the wake-up window the journeys were measured with (the longest if pooled "
             "journeys differ)."),
            ("churn_threshold_days", "INTEGER", "T: the churn threshold second churn was judged against (the vertical's "
             "stage_churned_days); null for outcomes imported without one."),
            ("control_users", "DOUBLE", "Treatment rows: control journeys compared with (see control_basis)."),
            *(
                row
                for prefix, what in (("wake_up", "wake-up rate"), ("repurchase", "30-day repurchase rate"),
                                     ("revenue", "30-day revenue per user"), ("ltv_90d", "90-day revenue per user"))
                for row in (
                    (f"{prefix}_lift", "DOUBLE", f"Treatment minus control {what} (treatment rows; the control is "
                     "the one control_basis names)."),
                    (f"{prefix}_lift_ci_low", "DOUBLE", f"Lower end of the 95% interval of the {what} lift (Welch SE)."),
                    (f"{prefix}_lift_ci_high", "DOUBLE", f"Upper end of the 95% interval of the {what} lift."),
                    (f"{prefix}_relative_lift", "DOUBLE", f"{what.capitalize()} lift divided by the control value."),
                    (f"{prefix}_relative_lift_ci_low", "DOUBLE", f"Lower end of the 95% interval of the relative {what} lift (delta method)."),
                    (f"{prefix}_relative_lift_ci_high", "DOUBLE", f"Upper end of the 95% interval of the relative {what} lift."),
                    (f"{prefix}_p_value", "DOUBLE", f"Two-sided p-value of a zero {what} lift (normal approximation)."),
                    (f"{prefix}_lift_cuped", "DOUBLE", f"{what.capitalize()} lift after CUPED on pre_period_revenue "
                     "(theta from both arms of the campaign); same target as the plain lift, usually narrower."),
                    (f"{prefix}_lift_cuped_ci_low", "DOUBLE", f"Lower end of the 95% interval of the CUPED {what} lift."),
                    (f"{prefix}_lift_cuped_ci_high", "DOUBLE", f"Upper end of the 95% interval of the CUPED {what} lift."),
                )
            ),
            ("incremental_revenue_30d", "DOUBLE", "revenue_lift x treatment users: revenue the recall caused within 30 days."),
            ("roi_30d", "DOUBLE", "(incremental_revenue_30d - cost) / cost; null without cost."),
            ("incremental_revenue_90d", "DOUBLE", "ltv_90d_lift x treatment users."),
            ("roi_90d", "DOUBLE", "(incremental_revenue_90d - cost) / cost; null without cost."),
            ("srm_p_value", "DOUBLE", "Sample-ratio-mismatch check: p-value of each campaign's treatment, "
             "strategy-holdout and global-holdout journeys against the design's shares (1-g)(1-h), (1-g)h and g (h the "
             "strategy's holdout_share, g the global holdout share, as each journey recorded them at assignment: "
             "recall_outcomes.design_*; the library's current ones where not recorded); for journeys only the delivery log knows, control "
             "against g + (1-g)h (a strategy not in the library: its pooled control share); programme rows: the global "
             "holdout against g; variant contrasts: the pair against the variants' shares. A later (not first) journey "
             "outside the global holdout counts against 1-h and h; a later journey of a global-holdout user is only "
             "checked to be in the global holdout (1 where the design leaves a single split). Chi-square when every expected group has at least 5 journeys, else the exact multinomial test; "
             "pooled cohorts are tested on their pooled groups against the sum of their journeys' probabilities; "
             "step_variant and channel rows carry their campaign's value."),
            ("srm_alarm", "BOOLEAN", "srm_p_value < 0.001: the split is implausible under the design."),
            ("trustworthy", "BOOLEAN", "Not srm_alarm: read the lifts only where true."),
            ("small_cohort", "BOOLEAN", "An arm has fewer than 100 journeys: the interval is shown but only indicative."),
        ),
    ),
    "user_segments": (
        "Behaviour segment of every user active in the trailing window, per day: k-means (k=3, fixed seed) on the "
        "standardized behaviour mix, each cluster named by its centroid's dominant trait. Refit as of each Monday "
        "(and the first partition) and carried through the week; users with too little activity are unclassified.",
        _cols(
            ("segment_date", "DATE", "Business day the segment is in force (the partition; primary key part)."),
            ("user_id", "VARCHAR", "The user (primary key part); users without activity in the window have no row."),
            ("segment", "VARCHAR", "price_sensitive, feature_dependent, social_driven, or unclassified (fewer than 3 "
             "active days or 10 events in the window)."),
            ("cluster", "INTEGER", "k-means cluster index of the refit (null when unclassified)."),
            ("refreshed_on", "DATE", "Day the clustering was computed as of (the Monday on or before segment_date)."),
            ("window_days", "INTEGER", "Trailing window of daily activity the features cover (56 days up to refreshed_on)."),
            ("active_days", "BIGINT", "Active days in the window."),
            ("coupon_share", "DOUBLE", "Share of purchases paid with a coupon, shrunk towards the app's rate with 3 "
             "pseudo-purchases (price sensitivity)."),
            ("core_feature_share", "DOUBLE", "Core-feature events per in-session event (events minus sessions and purchases)."),
            ("social_share", "DOUBLE", "Social events per in-session event."),
            ("centroid_distance", "DOUBLE", "Distance to the cluster centre in standardized units (how typical the user is)."),
        ),
    ),
    "churn_model": (
        "The churn model in force on each day (the partition): the model refitted as of that week's Monday (or the "
        "first partition; by the model_refits run the evening before, or by this step when that run did not happen) "
        "and kept in the registry ($CHURN_RECALL_HOME/models/churn/<version>/: model.pkl and "
        "card.json), with its quality on held-out days; or, while too little matured history exists, the reason "
        "the rules stand in (cold start). See orchestration/scoring.",
        _cols(
            ("model_date", "DATE", "Business day the model scores (the partition; primary key)."),
            ("cutoff_date", "DATE", "R: the refit's cut-off, the Monday on or before model_date (or the first partition). "
             "The refit read no label dated after R."),
            ("model_version", "VARCHAR", "Registry version <vertical>-<R yyyymmdd>-<digest of how the fit is made>; null "
             "in a cold start."),
            ("status", "VARCHAR", "model (a fitted model scores the day) or cold_start (the rules score it)."),
            ("reason", "VARCHAR", "Why: the model and its test AUC, or the cold-start reason (e.g. too few matured days)."),
            ("horizon_days", "INTEGER", "H: the probability is of no key action on days D+1..D+H (the preset's "
             "churn_horizon_days)."),
            ("training_first_date", "DATE", "First label day the refit used (a day D is used only when D + H <= R)."),
            ("training_last_date", "DATE", "Last label day the refit used: R - H."),
            ("train_rows", "BIGINT", "User-days the boosting was fitted on (sampled by user and day above 100,000): the "
             "matured days but the last 14, of which the first 7 test the model and the last 7 calibrate it."),
            ("test_rows", "BIGINT", "User-days of the test slice (the 7 matured days before the calibration slice)."),
            ("test_base_rate", "DOUBLE", "Share of test user-days with no key action in the following H days."),
            ("test_roc_auc", "DOUBLE", "ROC AUC of the probability on the test slice."),
            ("test_pr_auc", "DOUBLE", "Precision-recall AUC (average precision) on the test slice."),
            ("test_brier", "DOUBLE", "Brier score (mean squared error of the probability) on the test slice."),
            ("test_calibration_error", "DOUBLE", "Expected calibration error on the test slice: |mean probability - churn "
             "rate| over 10 equal-count probability bins, weighted by size."),
        ),
    ),
    "user_churn_scores": (
        "The churn probability of every labelled user per day: P(no key action on days D+1..D+H), from the churn "
        "model in force on D (churn_model), fitted point in time on matured days only. During a cold start the rows "
        "say so (scored_by = 'rules', with the reason) and user_risk_tiers applies the rules. Read by user_risk_tiers "
        "as a dbt source.",
        _cols(
            ("user_id", "VARCHAR", "The user (primary key part)."),
            ("score_date", "DATE", "D: the business day scored (the partition; primary key part). Only the user's "
             "user_daily_labels row of D is read."),
            ("churn_probability", "DOUBLE", "Calibrated probability of no key action (the preset's key_action_events) on "
             "days D+1..D+H; null when scored_by = 'rules'."),
            ("horizon_days", "INTEGER", "H in days (the preset's churn_horizon_days)."),
            ("model_version", "VARCHAR", "Registry version of the model that scored the row; null when scored_by = 'rules'."),
            ("scored_by", "VARCHAR", "model, or rules (cold start: user_risk_tiers uses its rule-based stage and score)."),
            ("score_reason", "VARCHAR", "Why this scorer: the model version, its cut-off and test AUC, or the cold-start "
             "reason."),
            ("inputs_hash", "BIGINT", "Hash of what the probability was computed from: the model's fit and the row's "
             "features. A later run that scores the day again (its lookback days) keeps the probability of a row whose "
             "hash is unchanged instead of predicting it again; null when scored_by = 'rules'."),
        ),
    ),
}


def create_table_sql(table: str) -> str:
    """The `create table if not exists` of a documented table (and of its schema, when it names one)."""
    _, columns = TABLES[table]
    schema = f"create schema if not exists {table.split('.')[0]}; " if "." in table else ""
    return f"{schema}create table if not exists {table} ({', '.join(f'{c.name} {c.type}' for c in columns)})"

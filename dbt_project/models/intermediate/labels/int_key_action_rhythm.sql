-- the app's own rhythm as of each label day D, and the lifecycle-stage thresholds fitted to it:
-- the gaps between key actions that ended in the last var `rhythm_window_days` days (only history
-- up to D), each returning user weighing about one whatever its number of gaps (so the thresholds
-- describe users, not the most frequent users' gaps), weighted against censoring (a short history
-- sees fewer long gaps), and their quantiles
-- var `rhythm_stage_quantiles` as the at_risk, dormant light / medium / severe and churned
-- thresholds (churned: past the gap that almost no returning user exceeds). In force: the fitted
-- thresholds once there are var `rhythm_min_gaps` gaps over var `rhythm_min_history_days` days of
-- history, else the preset's (also when var `fit_stage_thresholds` is false). rhythm_warning names
-- the preset thresholds far from a credible fit. One row per label day; incremental over
-- [min_date - lookback_days, max_date).
{{ config(
    unique_key=['rhythm_date'],
    pre_hook="{{ delete_window('rhythm_date', lookback_start_date(), window_max_date()) }}"
) }}

{%- set stages = ['at_risk', 'dormant_light', 'dormant_medium', 'dormant_severe', 'churned'] %}
{%- set quantiles = var('rhythm_stage_quantiles') %}
{%- set window_days = var('rhythm_window_days') | int %}
{%- set warn_ratio = var('rhythm_warn_ratio') %}

with

label_days as (
    {{ label_days() }}
),

gaps as (
    -- rows written before the per-user weights existed count each gap once until rebuilt
    select gap_end_date, gap_days, gaps, coalesce(user_weighted_gaps, gaps) as user_weighted_gaps
    from {{ ref('int_key_action_gaps') }}
    where gap_end_date < {{ window_max_date() }}
),

gap_starts as (
    select gap_end_date, min(gap_end_date - gap_days) as first_gap_start_date from gaps group by 1
),

history as (
    -- how long a gap the history could show: from the start of its earliest gap (all history up to D)
    select
        label_days.label_date,
        {{ days_between('min(gap_starts.first_gap_start_date)', 'label_days.label_date') }} as history_days
    from label_days
    inner join gap_starts on gap_starts.gap_end_date <= label_days.label_date
    group by label_days.label_date
),

measured as (
    -- each label day's gaps of its trailing window, by length, weighted per user (int_key_action_gaps)
    -- and against censoring: a gap of g days fits in H - g + 1 of the history's end days (H =
    -- history_days) where a one-day gap fits in H, so long gaps are under-seen by H / (H - g + 1)
    -- (both within the trailing window); the weight undoes it, at most var `rhythm_max_gap_weight`
    select
        label_days.label_date,
        gaps.gap_days,
        sum(gaps.gaps) as gaps,
        sum(gaps.user_weighted_gaps) * least(
            {{ var('rhythm_max_gap_weight') }},
            least({{ window_days }}, history.history_days)
                / greatest(1.0, least({{ window_days }}, history.history_days - gaps.gap_days + 1))
        ) as weighted_gaps
    from label_days
    inner join history on history.label_date = label_days.label_date
    inner join gaps
        on gaps.gap_end_date <= label_days.label_date
        and gaps.gap_end_date > label_days.label_date - {{ window_days }}
    group by label_days.label_date, gaps.gap_days, history.history_days
),

cumulative as (
    -- weighted shares rounded so that the comparison with a quantile does not depend on summing order
    select
        label_date,
        gap_days,
        sum(gaps) over (partition by label_date) as gaps_observed,
        round(
            sum(weighted_gaps) over (partition by label_date order by gap_days rows between unbounded preceding and current row)
                / sum(weighted_gaps) over (partition by label_date),
            9
        ) as share_up_to
    from measured
),

quantiles as (
    -- the q-quantile: the shortest gap that at least q of the (weighted) gaps do not exceed
    select
        label_date,
        max(gaps_observed) as gaps_observed,
        {%- for stage in stages %}
        min(gap_days) filter (where share_up_to >= {{ quantiles[loop.index0] }}) as q_{{ stage }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from cumulative
    group by 1
),

fitted as (
    -- quantiles made strictly increasing (a stage must be reachable), null below var `rhythm_min_gaps`
    select
        label_days.label_date,
        coalesce(quantiles.gaps_observed, 0) as gaps_observed,
        history.history_days as measured_history_days,
        case when quantiles.gaps_observed >= {{ var('rhythm_min_gaps') }} then greatest(quantiles.q_at_risk, 1) end
            as fitted_at_risk_days,
        {%- for stage in stages[1:] %}
        case when quantiles.gaps_observed >= {{ var('rhythm_min_gaps') }} then greatest(
            {%- for earlier in stages[:loop.index] %}
            greatest(quantiles.q_{{ earlier }}, 1) + {{ loop.revindex }},
            {%- endfor %}
            quantiles.q_{{ stage }}
        ) end as fitted_{{ stage }}_days
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from label_days
    left join quantiles on quantiles.label_date = label_days.label_date
    left join history on history.label_date = label_days.label_date
),

chosen as (
    select
        fitted.*,
        -- the fit is credible once the history could show gaps past the churned threshold
        fitted_churned_days is not null
            and coalesce(measured_history_days >= {{ var('rhythm_min_history_days') }}, false) as fit_credible
    from fitted
)

select
    cast(label_date as date) as rhythm_date,
    cast(gaps_observed as integer) as gaps_observed,
    cast(measured_history_days as integer) as measured_history_days,
    {%- for stage in stages %}
    cast(fitted_{{ stage }}_days as integer) as fitted_{{ stage }}_days,
    {%- endfor %}
    cast(case when {{ 'fit_credible' if var('fit_stage_thresholds') else 'false' }} then 'fitted' else 'preset' end as string) as thresholds_source,
    {%- for stage in stages %}
    cast(case when {{ 'fit_credible' if var('fit_stage_thresholds') else 'false' }} then fitted_{{ stage }}_days else {{ var('stage_' ~ stage ~ '_days') }} end as integer)
        as stage_{{ stage }}_days,
    {%- endfor %}
    -- the preset thresholds more than var `rhythm_warn_ratio` times off the fit, named with both values
    cast(nullif(concat_ws('; '
        {%- for stage in stages %}
        {%- set preset = var('stage_' ~ stage ~ '_days') %},
        case
            when fit_credible and (
                fitted_{{ stage }}_days > {{ warn_ratio }} * {{ preset }}
                or {{ warn_ratio }} * fitted_{{ stage }}_days < {{ preset }}
            ) then concat('stage_{{ stage }}_days {{ preset }} vs ', fitted_{{ stage }}_days, ' fitted')
        end
        {%- endfor %}
    ), '') as string) as rhythm_warning
from chosen

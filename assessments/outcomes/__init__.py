"""Cohort outcomes: the clinic manager's analytics room.

This package owns everything that turns recorded pain and questionnaire scores into
outcome figures: the pain windows and the worsening-pain rule (``windows``, pure: day 0,
the baseline week, the current 7-day window, plan weeks on the patient's wall clock),
each patient's day-0 inputs as stored (``day0``), the weekly NRS sums kept for the
cohort (``nrs_weeks``), the cohort selectors that load a clinic's patients as arrays
(``selectors``), the pure numpy engine that computes responder rates, MCID attainment,
trajectories and time to response from those arrays (``engine``, no Django), the summary
and its groupings (``summary``), the service that loads, computes and audits
(``services``), the de-identified exports (``exports``), the cohort API (``api``) and the
worsening-pain alert (``worsening``).
"""

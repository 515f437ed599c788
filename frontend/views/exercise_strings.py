"""What the phone's "Today's exercises" screen (pwa/exercises.js) shows, translated when
the app page is rendered so that the cached page works offline."""

from __future__ import annotations

from django.utils.translation import gettext as _


def exercise_js_strings() -> dict[str, str]:
    return {
        "loading": _("Loading…"),
        "ex_intro": _("Open an exercise for its steps and timer, then mark it done."),
        "ex_none": _("Your therapist has not set home exercises for you yet."),
        "ex_unavailable": _("Your exercises could not be loaded. They will show when you are online."),
        "ex_not_running": _("Your plan is not running today, so exercises cannot be marked done."),
        "ex_sets_reps": _("%(sets)s × %(reps)s"),
        "ex_hold": _("hold %(n)s s"),
        "ex_rest": _("rest %(n)s s"),
        "ex_minutes": _("%(n)s minutes"),
        "ex_per_week": _("%(n)s× a week"),
        "ex_start": _("Start"),
        "ex_again": _("Open again"),
        "ex_timer": _("Timer"),
        "ex_go": _("Start timer"),
        "ex_pause": _("Pause"),
        "ex_reset": _("Reset"),
        "ex_set_done": _("Set done"),
        "ex_timer_done": _("All sets done. Well done!"),
        "ex_set_of": _("set %(set)s of %(sets)s"),
        "ex_rep_of": _("repetition %(rep)s of %(reps)s"),
        "ex_phase_hold": _("Hold"),
        "ex_phase_relax": _("Relax"),
        "ex_phase_rest": _("Rest"),
        "ex_phase_set": _("Do %(reps)s repetitions"),
        "ex_done_title": _("Done?"),
        "ex_sets_done": _("Sets done"),
        "ex_pain_after": _("Pain afterwards (0 = none, 10 = worst), if you want to say"),
        "ex_difficulty": _("How was it?"),
        "ex_too_easy": _("Too easy"),
        "ex_right": _("About right"),
        "ex_too_hard": _("Too hard"),
        "ex_save": _("Save as done"),
        "entry_exercise_log": _("Exercise: %(name)s"),
        "reason_exercise": _("Your clinic could not accept this exercise entry."),
        "reason_exercise_date": _("This exercise entry is for a day your plan does not cover."),
    }

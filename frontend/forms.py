"""Django forms for clinic entry in the therapist console.

Forms only shape and check input for display (types, ranges, which fields go together)
and turn it into the ``answers`` / ``parameters`` the services expect; the services
(``assessments.capture.services.assessment_record``, ``therapies.services``) stay the judges of
every clinical rule, and each form shows their errors next to its fields
(``ClinicForm.apply_errors``; the plan form re-keys the errors about the whole new plan
onto the one component it edits).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

from django import forms
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from assessments.instruments import thermal
from assessments.instruments.dn4 import EXAMINATION_ITEMS, INTERVIEW_ITEMS
from assessments.instruments.odi import SECTION_KEYS, SECTION_MAXIMUM, SECTIONS
from assessments.instruments.thermal import (
    ACCLIMATISATION_MAX_MIN,
    ACCLIMATISATION_OK_MIN,
    AMBIENT_MAX_C,
    AMBIENT_MIN_C,
    AMBIENT_OK_HIGH_C,
    AMBIENT_OK_LOW_C,
    MAX_ROIS,
    REGION_MAX_LENGTH,
    SKIN_MAX_C,
    SKIN_MIN_C,
)
from assessments.models import AlertAction
from therapies.modalities import MODALITIES, check_parameters, opposite_side
from therapies.modality_names import modality_short_name
from therapies.models import AdverseEvent, Tolerance
from therapies.services import OVERRIDE_REASON_MIN_CHARS

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
DEFAULT_ROI_ROWS = 3
YES_NO = (("yes", _("Yes")), ("no", _("No")))
SIDES = (("left", _("Left")), ("right", _("Right")))


def _zh() -> bool:
    return (get_language() or "en").lower().startswith("zh")


def bilingual(text: Any) -> str:
    """Pick the active language from an instrument / catalogue ``Text`` (en, zh_hans)."""
    return str(text.zh_hans if _zh() else text.en)


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input read and shown in the patient's time zone (not the server's)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT)
    input_formats = [
        LOCAL_INPUT_FORMAT,
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]

    def __init__(self, *, tz: str = "UTC", **kwargs: Any) -> None:
        self.tz = zoneinfo.ZoneInfo(tz)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(self.tz).strftime(LOCAL_INPUT_FORMAT)
        return value

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=self.tz)
        naive: dt.datetime | None = BaseTemporalField.to_python(self, str(value).strip())
        return None if naive is None else naive.replace(tzinfo=self.tz)


class ClinicForm(forms.Form):
    """Shared bits: an idempotency key per rendered form and a measured-at time."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, tz: str = "UTC", **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("client_uuid", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.tz = tz

    def raw(self, name: str) -> Any:
        """A value as submitted (bound) or as given initially, before cleaning."""
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        return self.initial.get(name)

    def when(self, field: str = "recorded_at") -> dt.datetime:
        return self.cleaned_data.get(field) or timezone.now()

    def warnings(self) -> dict[str, str]:
        """Advice shown next to a field that does not block saving."""
        return {}

    def error_fields(self, errors: Mapping[str, Any]) -> dict[str, str]:
        """This form's field for each service error key not named like the field (none)."""
        return {}

    def apply_errors(self, errors: Mapping[str, Any]) -> None:
        """Show a service's ``InvalidInput`` / ``ConflictError`` errors next to the fields
        they name (:func:`apply_service_errors`)."""
        apply_service_errors(self, errors, field_map=self.error_fields(errors))


def _when_field(tz: str, label: Any) -> LocalDateTimeField:
    return LocalDateTimeField(
        tz=tz,
        label=label,
        required=False,
        initial=lambda: timezone.now().astimezone(zoneinfo.ZoneInfo(tz)).strftime(LOCAL_INPUT_FORMAT),
        help_text=_("In the patient's time zone; empty means now."),
    )


# -----------------------------------------------------------------------------
# Thermal imaging
# -----------------------------------------------------------------------------


class ThermalForm(ClinicForm):
    """Infrared thermography reading: skin temperature per region on both sides."""

    ambient_c = forms.FloatField(
        label=_("Room temperature (°C)"),
        min_value=AMBIENT_MIN_C,
        max_value=AMBIENT_MAX_C,
    )
    acclimatisation_min = forms.IntegerField(
        label=_("Acclimatisation (minutes)"),
        min_value=0,
        max_value=ACCLIMATISATION_MAX_MIN,
    )
    affected_side = forms.ChoiceField(label=_("Affected side"), choices=SIDES)
    rows = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ROIS, required=False)

    def __init__(
        self,
        *args: Any,
        tz: str = "UTC",
        affected_side: str = "",
        regions: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {})
        if affected_side in ("left", "right"):
            kwargs["initial"].setdefault("affected_side", affected_side)
        super().__init__(*args, tz=tz, **kwargs)
        self.fields["recorded_at"] = _when_field(tz, _("Measured at"))
        data_rows = None
        if self.is_bound:
            try:
                data_rows = int(self.data.get(self.add_prefix("rows")) or 0)
            except ValueError:
                data_rows = None
        count = min(MAX_ROIS, max(1, data_rows or max(DEFAULT_ROI_ROWS, len(regions))))
        self.initial["rows"] = count
        for index in range(count):
            self.fields[f"region_{index}"] = forms.CharField(
                label=_("Region"),
                max_length=REGION_MAX_LENGTH,
                required=False,
                initial=regions[index] if index < len(regions) else "",
            )
            self.fields[f"left_{index}"] = forms.FloatField(
                label=_("Left (°C)"),
                min_value=SKIN_MIN_C,
                max_value=SKIN_MAX_C,
                required=False,
            )
            self.fields[f"right_{index}"] = forms.FloatField(
                label=_("Right (°C)"),
                min_value=SKIN_MIN_C,
                max_value=SKIN_MAX_C,
                required=False,
            )
        self.roi_count = count

    def roi_rows(
        self,
    ) -> Iterator[tuple[int, forms.BoundField, forms.BoundField, forms.BoundField]]:
        for index in range(self.roi_count):
            yield (
                index,
                self[f"region_{index}"],
                self[f"left_{index}"],
                self[f"right_{index}"],
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seen: set[str] = set()
        rois = []
        self.roi_form_rows: list[int] = []  # service ROI index -> form row
        for index in range(self.roi_count):
            keys = (f"region_{index}", f"left_{index}", f"right_{index}")
            if any(key in self.errors for key in keys):
                continue
            region = (data.get(keys[0]) or "").strip()
            left, right = data.get(keys[1]), data.get(keys[2])
            if not region and left is None and right is None:
                continue
            for key, value in zip(keys, (region, left, right), strict=True):
                if value in ("", None):
                    self.add_error(
                        key,
                        _("Fill in the region and both temperatures, or leave the row empty."),
                    )
            if region:
                if region.casefold() in seen:
                    self.add_error(keys[0], _("This region is listed twice."))
                seen.add(region.casefold())
            if region and left is not None and right is not None:
                rois.append({"region": region, "left_c": left, "right_c": right})
                self.roi_form_rows.append(index)
        if not rois and not any(key.startswith(("region_", "left_", "right_")) for key in self.errors):
            self.add_error("region_0", _("Record at least one region of interest."))
        data["rois"] = rois
        return data

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "rois": data["rois"],
            "ambient_c": data["ambient_c"],
            "acclimatisation_min": data["acclimatisation_min"],
            "affected_side": data["affected_side"],
        }

    def warnings(self) -> dict[str, str]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        notes: dict[str, str] = {}
        ambient = data.get("ambient_c")
        if ambient is not None and not AMBIENT_OK_LOW_C <= ambient <= AMBIENT_OK_HIGH_C:
            notes["ambient_c"] = str(
                _("Outside %(lo)s–%(hi)s °C: the reading is kept but flagged for measurement conditions.")
                % {"lo": f"{AMBIENT_OK_LOW_C:g}", "hi": f"{AMBIENT_OK_HIGH_C:g}"}
            )
        minutes = data.get("acclimatisation_min")
        if minutes is not None and minutes < ACCLIMATISATION_OK_MIN:
            notes["acclimatisation_min"] = str(
                _("Under %(n)s minutes: the reading is kept but flagged for measurement conditions.")
                % {"n": ACCLIMATISATION_OK_MIN}
            )
        return notes

    def error_fields(self, errors: Mapping[str, Any]) -> dict[str, str]:
        """The ROI row fields of the instrument's per-answer error paths."""
        answers = errors.get("answers")
        if not isinstance(answers, dict):
            return {}
        return {path: field for path in answers if (field := self.field_for_path(path))}

    def field_for_path(self, path: str) -> str | None:
        """Map an instrument error path ("rois[1].right_c") to this form's field name."""
        if path.startswith("rois["):
            index, _sep, key = path[5:].partition("].")
            rows = getattr(self, "roi_form_rows", [])
            if index.isdigit() and int(index) < len(rows):
                return {
                    "region": "region_",
                    "left_c": "left_",
                    "right_c": "right_",
                }.get(key, "region_") + str(rows[int(index)])
            return "region_0"
        return path if path in thermal.TOP_KEYS else None


# -----------------------------------------------------------------------------
# DN4 examination
# -----------------------------------------------------------------------------


def _yes_no(label: Any, *, required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=YES_NO, widget=forms.RadioSelect, required=required)


class DN4Form(ClinicForm):
    """The clinician's three DN4 examination items.

    With a DN4 interview from the patient in the last 30 days, only the examination is
    asked and the service merges it into the full DN4 (``assessment_record``). Without
    one, the 7 interview items are asked in clinic too.
    """

    def __init__(
        self,
        *args: Any,
        tz: str = "UTC",
        interview: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, tz=tz, **kwargs)
        self.interview = interview
        self.fields["recorded_at"] = _when_field(tz, _("Examined at"))
        if interview is None:
            for key, text in INTERVIEW_ITEMS:
                self.fields[key] = _yes_no(bilingual(text))
        for key, text in EXAMINATION_ITEMS:
            self.fields[key] = _yes_no(bilingual(text))

    def interview_fields(self) -> list[forms.BoundField]:
        return [self[key] for key, _text in INTERVIEW_ITEMS if key in self.fields]

    def exam_fields(self) -> list[forms.BoundField]:
        return [self[key] for key, _text in EXAMINATION_ITEMS]

    def interview_summary(self) -> list[tuple[str, bool]]:
        answers = (self.interview or {}).get("answers", {})
        return [(bilingual(text), bool(answers.get(key))) for key, text in INTERVIEW_ITEMS]

    def answers(self) -> dict[str, Any]:
        keys = [key for key, _t in EXAMINATION_ITEMS]
        if self.interview is None:
            keys = [key for key, _t in INTERVIEW_ITEMS] + keys
        return {key: self.cleaned_data[key] == "yes" for key in keys}


class ODIForm(ClinicForm):
    """The ODI's ten section scores copied from the paper form the patient filled in at the
    clinic (0-5 each, or not answered). The wording stays on the licensed paper form: the
    console needs only the scores, so it works before any content pack is loaded."""

    NOT_ANSWERED = ""

    def __init__(self, *args: Any, tz: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, tz=tz, **kwargs)
        self.fields["recorded_at"] = _when_field(tz, _("Filled in at"))
        choices = [(self.NOT_ANSWERED, _("Not answered / does not apply"))] + [
            (str(value), str(value)) for value in range(SECTION_MAXIMUM + 1)
        ]
        for number, (key, title) in enumerate(zip(SECTION_KEYS, SECTIONS, strict=True), start=1):
            self.fields[key] = forms.ChoiceField(
                label=f"{number}. {bilingual(title)}", choices=choices, required=False, initial=self.NOT_ANSWERED
            )

    def section_fields(self) -> list[forms.BoundField]:
        return [self[key] for key in SECTION_KEYS]

    def answers(self) -> dict[str, Any]:
        return {
            key: None if self.cleaned_data[key] in (None, self.NOT_ANSWERED) else int(self.cleaned_data[key])
            for key in SECTION_KEYS
        }


# -----------------------------------------------------------------------------
# Therapy parameters (sessions and plan components)
# -----------------------------------------------------------------------------

PARAM_PREFIX = "p_"


def parameter_fields(modality: Any, initial: Mapping[str, Any] | None = None) -> dict[str, forms.Field]:
    """Form fields for a modality's catalogue parameters (``therapies.modalities.Param``).

    Hard validity bounds become min/max (shown inline); safety limits are not enforced
    here: the catalogue check reports them so a therapist can override with a reason.
    """
    initial = initial or {}
    fields: dict[str, forms.Field] = {}
    for param in modality.params:
        label = bilingual(param.label) + (f" ({param.unit})" if param.unit else "")
        common: dict[str, Any] = {
            "label": label,
            "required": param.required and param.kind != "boolean",
            "initial": initial.get(param.key),
        }
        field: forms.Field
        if param.kind == "number":
            field = forms.FloatField(
                min_value=None if param.minimum is None or param.exclusive_minimum else param.minimum,
                max_value=param.maximum,
                widget=forms.NumberInput(attrs={"step": "any"}),
                **common,
            )
        elif param.kind == "integer":
            field = forms.IntegerField(
                min_value=None if param.minimum is None or param.exclusive_minimum else int(param.minimum),
                max_value=None if param.maximum is None else int(param.maximum),
                **common,
            )
        elif param.kind == "choice":
            labels = [bilingual(param._choice_label(i)) for i in range(len(param.choices))]
            choices = list(zip(param.choices, labels, strict=True))
            field = forms.ChoiceField(choices=([("", "—")] if not param.required else []) + choices, **common)
        elif param.kind == "boolean":
            value = initial.get(param.key)
            common["initial"] = "" if value is None else ("yes" if value else "no")
            field = forms.ChoiceField(choices=[("", "—"), *YES_NO], **common)
        else:
            field = forms.CharField(max_length=param.max_length, **common)
        fields[PARAM_PREFIX + param.key] = field
    return fields


def parameters_from(modality: Any, cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """The ``parameters`` object for the services, from cleaned ``p_*`` fields."""
    params: dict[str, Any] = {}
    for param in modality.params:
        value = cleaned.get(PARAM_PREFIX + param.key)
        if value in (None, ""):
            continue
        if param.kind == "boolean":
            value = value == "yes"
        elif param.kind == "integer":
            value = int(value)
        params[param.key] = value
    return params


SIDE_NAMES = {"left": _("left"), "right": _("right")}


def hemisphere_relation(hemisphere: Any, affected_side: str) -> str:
    """How a stored rTMS hemisphere stands to one-sided pain ("" when the pain is not one-sided)."""
    proposed = opposite_side(affected_side)
    if proposed is None:
        return ""
    side = SIDE_NAMES[affected_side]
    if hemisphere == proposed:
        return str(_("opposite the %(side)s-sided pain") % {"side": side})
    return str(_("not opposite the %(side)s-sided pain") % {"side": side})


def hemisphere_help(affected_side: str) -> str:
    """What the hemisphere field proposes, and why, for the patient's affected side."""
    proposed = opposite_side(affected_side)
    if proposed is not None:
        return str(
            _(
                "Proposed: the %(proposed)s hemisphere, opposite the patient's %(side)s-sided pain (M1 "
                "contralateral to the pain: Level A for neuropathic pain, Lefaucheur 2020). Another side needs "
                "an override reason."
            )
            % {"proposed": SIDE_NAMES[proposed], "side": SIDE_NAMES[affected_side]}
        )
    if affected_side == "bilateral":
        return str(
            _(
                "The patient's pain is bilateral: there is no opposite side. Choose the hemisphere; it is "
                "recorded with the plan as your choice."
            )
        )
    return str(
        _(
            "The patient's pain is recorded as not lateralised (e.g. axial low back pain): there is no opposite "
            "side. Choose the hemisphere; it is recorded with the plan as your choice. For one-sided pain, "
            "record the affected side on the patient first."
        )
    )


def _prescribable_modalities() -> list[tuple[str, str]]:
    """(code, name) of every modality a plan or a session can name (a DREZ referral is not
    delivered in the clinic)."""
    return [(code, bilingual(m.name)) for code, m in MODALITIES.items() if code != "drez_referral"]


class _ParameterForm(ClinicForm):
    override_reason = forms.CharField(
        label=_("Override reason"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only when a value is beyond a safety limit: why it is right for this patient."),
    )
    modality_obj: Any = None
    affected_side: str = ""

    @property
    def modality_short_name(self) -> str:
        return modality_short_name(self.modality_obj.code) if self.modality_obj is not None else ""

    def _propose_hemisphere(self, prescribed: Mapping[str, Any] | None) -> None:
        """rTMS: the hemisphere opposite the patient's affected side, unless one is already prescribed."""
        field = self.fields.get(PARAM_PREFIX + "hemisphere")
        if field is None or self.modality_obj is None or self.modality_obj.code != "rtms":
            return
        field.help_text = hemisphere_help(self.affected_side)
        self.fields["override_reason"].help_text = _(
            "Only when a value is beyond a safety limit, or the hemisphere is not opposite the pain: why it is "
            "right for this patient."
        )
        choices = list(getattr(field, "choices", []))
        if isinstance(field, forms.ChoiceField) and ("", "—") not in choices:
            # No silent first option: the side is always a choice made on purpose.
            field.choices = [("", "—"), *choices]
        if not (prescribed or {}).get("hemisphere"):
            field.initial = opposite_side(self.affected_side)

    def parameters(self) -> dict[str, Any]:
        return parameters_from(self.modality_obj, self.cleaned_data) if self.modality_obj else {}

    def limit_check(self) -> Any:
        """The catalogue's verdict on the parameters as entered so far (for inline feedback)."""
        if self.modality_obj is None:
            return None
        cleaned = getattr(self, "cleaned_data", {})
        return check_parameters(
            self.modality_obj.code,
            parameters_from(self.modality_obj, cleaned),
            context={"affected_side": self.affected_side},
        )

    def warnings(self) -> dict[str, str]:
        check = self.limit_check()
        if check is None:
            return {}
        notes: dict[str, str] = {}
        for violation in check.violations:
            name = PARAM_PREFIX + violation.field
            key = name if name in self.fields else "override_reason"
            message = self._side_warning() if violation.code == "m1_contralateral" else violation.message
            notes[key] = " ".join(filter(None, [notes.get(key), message]))
        if check.violations and not (getattr(self, "cleaned_data", {}).get("override_reason") or "").strip():
            only_side = all(v.code == "m1_contralateral" for v in check.violations)
            notes.setdefault(
                "override_reason",
                str(
                    _("Not the hemisphere opposite the pain: saving needs an override reason.")
                    if only_side
                    else _("Beyond a safety limit: saving needs an override reason.")
                ),
            )
        return notes

    def _side_warning(self) -> str:
        proposed = opposite_side(self.affected_side) or ""
        return str(
            _(
                "Not opposite the pain: with %(side)s-sided pain the M1 target with Level A evidence is the "
                "%(proposed)s hemisphere (Lefaucheur 2020). Saving this side needs an override reason."
            )
            % {"side": SIDE_NAMES.get(self.affected_side, ""), "proposed": SIDE_NAMES.get(proposed, "")}
        )


class SessionForm(_ParameterForm):
    """A delivered therapy session, as delivered (prescribed parameters by default)."""

    field_order = ("component", "modality", "delivered_at")

    def __init__(
        self,
        *args: Any,
        tz: str = "UTC",
        components: Sequence[Any] = (),
        plan_end: dt.date | None = None,
        affected_side: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, tz=tz, **kwargs)
        self.affected_side = affected_side
        self.components = {str(c.pk): c for c in components}
        # The last day of the plan the components belong to (None: no end).
        self.plan_end = plan_end
        self._add_session_fields()
        component = self.components.get(str(self.raw("component") or ""))
        code = component.modality if component is not None else str(self.raw("modality") or "")
        self.component_obj = component
        self.modality_obj = MODALITIES.get(code)
        if self.modality_obj is not None:
            prescribed = component.parameters if component is not None else {}
            self.fields.update(parameter_fields(self.modality_obj, prescribed))
            self._propose_hemisphere(prescribed)
        if component is not None:
            self._follow_prescription(component)
        self.order_fields(
            [
                *self.field_order,
                *[n for n in self.fields if n.startswith(PARAM_PREFIX)],
                "adverse_event",
                "adverse_event_note",
                "tolerance",
                "override_reason",
                "confirm_ended_plan",
            ]
        )

    def _add_session_fields(self) -> None:
        """What was delivered (a plan component or any modality), when, and how it went."""
        self.fields["component"] = forms.ChoiceField(
            label=_("Plan component"),
            required=False,
            choices=[("", _("— not in the plan —"))]
            + [(key, component_label(c)) for key, c in self.components.items()],
        )
        self.fields["modality"] = forms.ChoiceField(
            label=_("Modality"), required=False, choices=[("", "—"), *_prescribable_modalities()]
        )
        self.fields["delivered_at"] = _when_field(self.tz, _("Delivered at"))
        self.fields["adverse_event"] = forms.ChoiceField(
            label=_("Adverse event"),
            choices=AdverseEvent.choices,
            initial=AdverseEvent.NONE,
        )
        self.fields["adverse_event_note"] = forms.CharField(
            label=_("Adverse event note"), required=False, max_length=4000
        )
        self.fields["tolerance"] = forms.ChoiceField(
            label=_("Tolerance"),
            required=False,
            choices=[("", "—"), *Tolerance.choices],
        )

    def _follow_prescription(self, component: Any) -> None:
        """A session of a plan component repeats its override and asks to confirm a session
        of a plan that has ended."""
        if component.override_reason:
            # Delivering an overridden prescription repeats the plan's override.
            self.fields["override_reason"].initial = component.override_reason
        if self.plan_ended():
            self.fields["confirm_ended_plan"] = forms.BooleanField(
                label=_("Record it anyway (for example a session delivered late)"),
                required=False,
            )

    def error_fields(self, errors: Mapping[str, Any]) -> dict[str, str]:
        return {"component": "component"}

    def plan_ended(self, on: dt.date | None = None) -> bool:
        """The plan of the chosen component was over by ``on`` (default: the patient's today)."""
        on = on or timezone.now().astimezone(zoneinfo.ZoneInfo(self.tz)).date()
        return self.plan_end is not None and on > self.plan_end

    def ended_plan_notice(self) -> str:
        if self.component_obj is None or not self.plan_ended() or self.plan_end is None:
            return ""
        return str(
            _(
                "Version %(version)s of the plan ended on %(date)s. Check that this session belongs to it before "
                "recording it."
            )
            % {"version": self.component_obj.plan.version, "date": self.plan_end.isoformat()}
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("component") and not data.get("modality"):
            self.add_error("modality", _("Choose a plan component or a modality."))
        delivered = data.get("delivered_at") or timezone.now()
        delivered_on = delivered.astimezone(zoneinfo.ZoneInfo(self.tz)).date()
        # A session of an ended plan is recorded only after the therapist confirms it.
        if (
            "confirm_ended_plan" in self.fields
            and self.plan_end is not None
            and self.plan_ended(delivered_on)
            and not data.get("confirm_ended_plan")
        ):
            self.add_error(
                "confirm_ended_plan",
                _("This plan ended on %(date)s: tick “Record it anyway” to record a session of it.")
                % {"date": self.plan_end.isoformat()},
            )
        return data


class _LimitConfirmField(forms.MultipleChoiceField):
    """The limits the therapist confirms going beyond (codes); which ones are needed is
    decided in the form's ``clean`` from the parameters entered, not from fixed choices."""

    widget = forms.CheckboxSelectMultiple

    def valid_value(self, value: Any) -> bool:
        return isinstance(value, str) and 0 < len(value) <= 64


def _number(value: float) -> str:
    """A value as a person reads it: at most three decimals (0.142857 -> 0.143)."""
    return f"{round(value, 3):g}"


def limit_breaches(modality: Any, check: Any, affected_side: str = "") -> list[dict[str, str]]:
    """Each safety limit the parameters go beyond, in words for the screen: the quantity,
    the value entered, the limit and its source, in the reader's language (no field keys)."""
    if modality is None or check is None:
        return []
    labels = {p.key: p for p in (*modality.params, *modality.derived_params)}
    limits = {limit.code: limit for limit in modality.limits}
    rows: list[dict[str, str]] = []
    for violation in check.violations:
        limit = limits.get(violation.code)
        param = labels.get(violation.field)
        quantity = bilingual(param.label) if param is not None else str(_("Parameter"))
        value = check.params.get(violation.field, check.derived.get(violation.field))
        if limit is not None and (limit.opposite_to or limit.allowed):
            shown = str(value) if param is None or param.kind != "choice" else _choice_text(param, value)
            if limit.opposite_to:
                expected = SIDE_NAMES.get(opposite_side(affected_side) or "", "")
                bound = str(_("%(expected)s (opposite the pain)") % {"expected": expected})
            else:
                bound = " / ".join(_choice_text(param, v) if param else v for v in limit.allowed)
            summary = str(
                _("%(quantity)s: %(value)s; the limit allows %(bound)s.")
                % {"quantity": quantity, "value": shown, "bound": bound}
            )
        else:
            bound = f"{_number(violation.limit)} {violation.unit}".strip()
            summary = str(
                _("%(quantity)s: %(value)s entered; the limit is %(bound)s.")
                % {
                    "quantity": quantity,
                    "value": f"{_number(violation.value)} {violation.unit}".strip(),
                    "bound": bound,
                }
            )
        title = f"{quantity} ≤ {bound}" if not (limit and (limit.opposite_to or limit.allowed)) else quantity
        rows.append(
            {
                "code": violation.code,
                "title": title,
                "summary": summary,
                "description": bilingual(limit.description) if limit is not None else "",
                "source": limit.source if limit is not None else "",
            }
        )
    return rows


def limit_titles(modality_code: str, codes: Sequence[str]) -> list[str]:
    """Stored override codes in words: the quantity and its limit ("Current ≤ 4 mA")."""
    modality = MODALITIES.get(modality_code)
    if modality is None:
        return [str(_("Safety limit")) for _code in codes]
    labels = {p.key: p for p in (*modality.params, *modality.derived_params)}
    limits = {limit.code: limit for limit in modality.limits}
    titles = []
    for code in codes:
        limit = limits.get(code)
        param = labels.get(limit.param) if limit is not None else None
        if limit is None or param is None:
            titles.append(str(_("Safety limit")))
        elif limit.allowed or limit.opposite_to:
            titles.append(bilingual(param.label))
        else:
            titles.append(f"{bilingual(param.label)} ≤ {_number(limit.maximum)} {limit.unit}".strip())
    return titles


def _choice_text(param: Any, value: Any) -> str:
    if value in param.choices:
        return bilingual(param._choice_label(param.choices.index(value)))
    return str(value)


class PlanComponentForm(_ParameterForm):
    """Change one component of the current plan (or add one); saving makes a new version.

    Going beyond a safety limit is a deliberate two-step act: the form lists each limit
    exceeded (quantity, value, limit, source), and saving then needs every one of them
    confirmed by name plus an override reason of meaningful length. The service checks
    the reason's length again, so no client can skip it.
    """

    def __init__(
        self,
        *args: Any,
        tz: str = "UTC",
        plan: Any = None,
        component: Any = None,
        affected_side: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, tz=tz, **kwargs)
        self.affected_side = affected_side
        self.plan = plan
        self.component = component
        self.fields["expected_version"] = forms.IntegerField(
            widget=forms.HiddenInput, min_value=0, initial=plan.version if plan else 0
        )
        self.fields["reason"] = forms.CharField(
            label=_("Reason for this plan version"),
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.modality_obj = MODALITIES.get(self._add_modality_choice())
        self._add_dose_fields()
        if component is not None:
            self.initial.setdefault("override_reason", component.override_reason)
        if self.modality_obj is not None:
            prescribed = getattr(component, "parameters", None)
            self.fields.update(parameter_fields(self.modality_obj, prescribed))
            self._propose_hemisphere(prescribed)
        self.fields["confirm_limits"] = _LimitConfirmField(label=_("Confirm going beyond"), required=False)
        first = ["modality"] if component is None else []
        self.order_fields(
            [
                *first,
                *[n for n in self.fields if n.startswith(PARAM_PREFIX)],
                "frequency_per_week",
                "duration_weeks",
                "notes",
                "override_reason",
                "confirm_limits",
                "reason",
                "remove",
            ]
        )

    def _add_modality_choice(self) -> str:
        """An edited component keeps its modality (and may be removed); a new one asks for
        it. Returns the modality code (may be empty)."""
        if self.component is not None:
            self.fields["remove"] = forms.BooleanField(label=_("Remove this component from the plan"), required=False)
            return str(self.component.modality)
        self.fields["modality"] = forms.ChoiceField(
            label=_("Modality"), choices=[("", "—"), *_prescribable_modalities()]
        )
        return str(self.raw("modality") or "")

    def _add_dose_fields(self) -> None:
        """How often and how long, and notes: the edited component's, or the defaults."""
        component = self.component
        self.fields["frequency_per_week"] = forms.IntegerField(
            label=_("Sessions per week"),
            min_value=0,
            max_value=14,
            initial=getattr(component, "frequency_per_week", 2),
        )
        self.fields["duration_weeks"] = forms.IntegerField(
            label=_("Duration (weeks)"),
            min_value=1,
            max_value=104,
            initial=getattr(component, "duration_weeks", 4),
        )
        self.fields["notes"] = forms.CharField(
            label=_("Notes"),
            required=False,
            max_length=4000,
            initial=getattr(component, "notes", ""),
        )

    def breaches(self) -> list[dict[str, str]]:
        """The limits the parameters entered so far go beyond, with whether each is confirmed."""
        if self.modality_obj is None:
            return []
        if not hasattr(self, "cleaned_data"):
            if not self.is_bound:
                return []
            self.is_valid()
        confirmed = (
            set(self.data.getlist(self.add_prefix("confirm_limits"))) if hasattr(self.data, "getlist") else set()
        )
        rows = limit_breaches(self.modality_obj, self.limit_check(), self.affected_side)
        for row in rows:
            row["confirmed"] = "checked" if row["code"] in confirmed else ""
            row["confirm_label"] = str(_("I confirm going beyond this limit: %(limit)s") % {"limit": row["title"]})
        return rows

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.modality_obj is None or cleaned.get("remove"):
            return cleaned
        if any(name.startswith(PARAM_PREFIX) for name in self.errors):
            return cleaned
        check = self.limit_check()
        if check is None or not check.violations:
            return cleaned
        reason = (cleaned.get("override_reason") or "").strip()
        if len(reason) < OVERRIDE_REASON_MIN_CHARS:
            self.add_error("override_reason", _override_reason_message())
        confirmed = set(cleaned.get("confirm_limits") or [])
        missing = [
            row["title"]
            for row in limit_breaches(self.modality_obj, check, self.affected_side)
            if row["code"] not in confirmed
        ]
        if missing:
            self.add_error(
                "confirm_limits",
                _("Confirm each limit you are going beyond before saving: %(limits)s.")
                % {"limits": "; ".join(missing)},
            )
        return cleaned

    def components(self) -> list[dict[str, Any]]:
        """The whole new plan: other components unchanged, this one edited, added or removed."""
        data = self.cleaned_data
        out: list[dict[str, Any]] = []
        existing = list(self.plan.components.all()) if self.plan is not None else []
        for current in existing:
            if self.component is not None and current.pk == self.component.pk:
                if data.get("remove"):
                    continue
                out.append(self._edited())
            else:
                out.append(
                    {
                        "modality": current.modality,
                        "parameters": current.parameters,
                        "frequency_per_week": current.frequency_per_week,
                        "duration_weeks": current.duration_weeks,
                        "override_reason": current.override_reason,
                        "notes": current.notes,
                    }
                )
        if self.component is None:
            out.append(self._edited())
        return out

    def _edited(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "modality": self.modality_obj.code if self.modality_obj else data.get("modality"),
            "parameters": self.parameters(),
            "frequency_per_week": data["frequency_per_week"],
            "duration_weeks": data["duration_weeks"],
            "override_reason": data.get("override_reason", ""),
            "notes": data.get("notes", ""),
        }

    def apply_errors(self, errors: Mapping[str, Any]) -> None:
        """The service's errors about the whole new plan, shown on this form: the edited
        component's on its fields, another component's as one line naming it, a stale
        version as a form error; limit breaches are left to the limits panel."""
        apply_service_errors(self, self._screened(self._own_errors(errors)))

    def _own_errors(self, errors: Mapping[str, Any]) -> dict[str, Any]:
        """The errors keyed as this form's fields: ``components[<index>]`` of the edited
        component lifted to the top, the other components' named in one form error."""
        out = dict(errors)
        index = str(self.component_index())
        components = out.pop("components", None)
        mine = (components or {}).get(index, {})
        others = {k: v for k, v in components.items() if k != index} if isinstance(components, dict) else {}
        if others:
            names = ", ".join(self._component_name(key) for key in sorted(others, key=str))
            out["__all__"] = [_("Another component of the plan is invalid: %(e)s") % {"e": names}]
        out.pop("current_version", None)
        if "version" in out:
            out["__all__"] = [*out.get("__all__", []), out.pop("version")]
        return {**out, **mine}

    def _component_name(self, index: Any) -> str:
        """The modality of the new plan's component at ``index``, in the reader's language."""
        components = self.components() if hasattr(self, "cleaned_data") else []
        try:
            modality = MODALITIES.get(str(components[int(index)]["modality"]))
        except (IndexError, KeyError, ValueError, TypeError):
            modality = None
        return bilingual(modality.name) if modality is not None else str(_("component %(n)s") % {"n": index})

    def _screened(self, errors: Mapping[str, Any]) -> dict[str, Any]:
        """The service's errors in the reader's words: limit breaches are shown by the limits
        panel, the override reason gets a translated message, parameter keys become labels."""
        out = dict(errors)
        if "override_reason" in out:
            out["override_reason"] = _override_reason_message()
        parameters = out.get("parameters")
        modality = self.modality_obj
        if isinstance(parameters, Mapping) and modality is not None:
            breached = {row["code"] for row in self.breaches()}
            labels = {p.key: bilingual(p.label) for p in (*modality.params, *modality.derived_params)}
            kept: dict[str, Any] = {}
            for key, message in parameters.items():
                texts = list(message) if isinstance(message, list | tuple) else [message]
                if breached and all(" limit" in str(text) for text in texts):
                    continue
                kept[key] = [_label_keys(str(text), labels) for text in texts]
            if kept:
                out["parameters"] = kept
            else:
                out.pop("parameters")
        return out

    def component_index(self) -> int:
        """Position of the edited component in :meth:`components` (service errors are keyed by it)."""
        if self.plan is None:
            return 0
        ids = [c.pk for c in self.plan.components.all()]
        if self.component is None:
            return len(ids)
        return ids.index(self.component.pk) if self.component.pk in ids else -1


def _override_reason_message() -> str:
    return str(
        _("Going beyond a safety limit needs a reason of at least %(n)d characters: why it is right for this patient.")
        % {"n": OVERRIDE_REASON_MIN_CHARS}
    )


def _label_keys(text: str, labels: Mapping[str, str]) -> str:
    """A service message with its parameter keys replaced by their labels."""
    for key in sorted(labels, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(key)}\b", labels[key], text)
    return text


def component_label(component: Any) -> str:
    modality = MODALITIES.get(component.modality)
    name = component.modality if modality is None else modality_short_name(component.modality)
    return _("%(name)s · %(per_week)s×/wk · %(weeks)s wk") % {
        "name": name,
        "per_week": component.frequency_per_week,
        "weeks": component.duration_weeks,
    }


# -----------------------------------------------------------------------------
# Service errors → fields
# -----------------------------------------------------------------------------


def _messages(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [m for item in value for m in _messages(item)]
    if isinstance(value, Mapping):
        return [f"{key}: {m}" for key, item in value.items() for m in _messages(item)]
    return [str(value)]


def apply_service_errors(
    form: forms.Form,
    errors: Mapping[str, Any],
    *,
    field_map: Mapping[str, str] | None = None,
) -> None:
    """Attach a service's ``InvalidInput.errors`` to the form's fields.

    Keys are form fields, nested ``answers`` / ``parameters`` mappings, or instrument
    paths (``rois[0].left_c``); whatever has no field goes to the form's non-field errors.
    """
    field_map = dict(field_map or {})
    for key, value in errors.items():
        if key in ("answers", "parameters") and isinstance(value, Mapping):
            prefix = PARAM_PREFIX if key == "parameters" else ""
            for sub, message in value.items():
                name = field_map.get(sub) or (prefix + sub)
                if name in form.fields and name not in ("client_uuid",):
                    for text in _messages(message):
                        form.add_error(name, text)
                else:
                    # derived parameters (tDCS charge, density) and "__all__": the message names them
                    for text in _messages(message):
                        form.add_error(
                            None,
                            text if sub == "__all__" or key == "parameters" else f"{sub}: {text}",
                        )
            continue
        name = field_map.get(key, key)
        for text in _messages(value):
            form.add_error(name if name in form.fields else None, text)


# -----------------------------------------------------------------------------
# Alert acknowledgement
# -----------------------------------------------------------------------------


class AlertAcknowledgeForm(forms.Form):
    """What was done about an alert. ``assessments.alerts.services.alert_acknowledge`` decides
    what is required (an action for safety alerts, a reason for "no action needed"); its
    errors come back through :meth:`apply_errors` in the reader's language."""

    MESSAGES: Mapping[str, Any] = {
        "action": _("Choose what was done: a safety alert cannot be closed without an action."),
        "reason": _("Give the reason why no action is needed."),
        "note": _("At most 2000 characters."),
    }

    action = forms.ChoiceField(label=_("Action taken"), required=False, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason (required for “No action needed”)"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(),
    )
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, alert: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"ack{alert.pk}")
        super().__init__(*args, **kwargs)
        self.alert = alert
        field = cast(forms.ChoiceField, self.fields["action"])
        if alert.is_safety:
            field.choices = AlertAction.choices
            # The browser asks first; the service is the judge either way.
            field.widget.attrs["required"] = "required"
        else:
            field.choices = [("", _("Not recorded")), *AlertAction.choices]
            self.initial.setdefault("action", "")

    def apply_errors(self, errors: Mapping[str, Any]) -> None:
        for key in errors:
            name = key if key in self.fields else None
            self.add_error(name, str(self.MESSAGES.get(key, _("This acknowledgement could not be saved."))))

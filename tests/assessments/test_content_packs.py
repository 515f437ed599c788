"""Licensed instrument text as content packs: checked against the instrument, versioned,
loaded by a management command, and the instrument list says whether the patient app may
offer the instrument. The packs here are written by the tests and marked as test content."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from assessments.capture.content_packs import content_pack_load, pack_errors
from assessments.models import ContentPack
from patients.audit import Actor
from patients.models import AuditEvent
from tests.content_packs import odi_pack


def test_a_complete_pack_is_valid() -> None:
    assert pack_errors(odi_pack()) == {}


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda p: p.update(instrument="phq9"), "instrument"),
        (lambda p: p.update(language="fr"), "language"),
        (lambda p: p.update(kind="official"), "kind"),
        (lambda p: p.update(title=""), "title"),
        (lambda p: p["sections"].pop("section8"), "sections.section8"),
        (lambda p: p["sections"].update(section11={"title": "x", "statements": ["a"] * 6}), "sections.section11"),
        (lambda p: p["sections"]["section3"]["statements"].pop(), "sections.section3.statements"),
        (lambda p: p["sections"]["section4"].update(title="  "), "sections.section4.title"),
        (lambda p: p["sections"]["section5"]["statements"].__setitem__(2, 7), "sections.section5.statements[2]"),
        (lambda p: p.update(sections=[]), "sections"),
        (lambda p: p.update(extra=1), "__all__"),
    ],
)
def test_a_pack_that_does_not_fit_the_instrument_is_refused_naming_the_place(mutate: Any, path: str) -> None:
    pack = odi_pack()
    mutate(pack)
    assert path in pack_errors(pack)


def test_not_an_object() -> None:
    assert pack_errors([1, 2]) == {"__all__": "A content pack is a JSON object."}


@pytest.mark.django_db
def test_each_load_is_a_new_version_and_audited() -> None:
    actor = Actor.system("test")
    first = content_pack_load(actor=actor, data=odi_pack())
    second = content_pack_load(actor=actor, data=odi_pack())
    chinese = content_pack_load(actor=actor, data=odi_pack("zh-hans"))
    assert (first.version, second.version, chinese.version) == (1, 2, 1)
    assert second.sections["section1"]["statements"][0] == "Test statement 1.0 (scores 0)"
    assert AuditEvent.objects.filter(action="content_pack.load").count() == 3


@pytest.mark.django_db
def test_the_command_loads_files_and_refuses_a_bad_one_naming_the_problem(tmp_path: Path) -> None:
    good = tmp_path / "odi.en.json"
    good.write_text(json.dumps(odi_pack()), encoding="utf-8")
    out = StringIO()
    call_command("content_pack_load", str(good), stdout=out)
    assert "loaded odi (en) version 1, test" in out.getvalue()

    bad_pack = odi_pack()
    bad_pack["sections"]["section2"]["statements"] = ["only one"]
    bad = tmp_path / "odi.bad.json"
    bad.write_text(json.dumps(bad_pack), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("content_pack_load", str(bad), str(broken), stdout=StringIO(), stderr=err)
    assert "sections.section2.statements: statements must be a list of exactly 6" in err.getvalue()
    assert "not a readable JSON file" in err.getvalue()
    assert ContentPack.objects.count() == 1


@pytest.mark.django_db
def test_shipped_placeholder_packs_are_valid_and_say_so() -> None:
    from assessments.demo.history import PLACEHOLDER_PACKS, seed_placeholder_packs

    assert len(PLACEHOLDER_PACKS) == 2
    for path in PLACEHOLDER_PACKS:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert pack_errors(data) == {}
        assert data["kind"] == "placeholder"
    seed_placeholder_packs(Actor.system("test"))
    seed_placeholder_packs(Actor.system("test"))  # a second seed adds nothing
    assert ContentPack.objects.filter(kind="placeholder").count() == 2
    english = ContentPack.objects.get(language="en")
    assert "must load the licensed" in english.title
    assert all("must load the licensed ODI text" in s for s in english.sections["section1"]["statements"])


@pytest.mark.django_db
def test_the_placeholder_never_replaces_a_clinics_pack() -> None:
    from assessments.demo.history import seed_placeholder_packs

    content_pack_load(actor=Actor.system("test"), data=odi_pack())
    seed_placeholder_packs(Actor.system("test"))
    assert list(ContentPack.objects.filter(language="en").values_list("kind", flat=True)) == ["test"]


@pytest.mark.django_db
def test_the_instrument_list_says_whether_the_text_may_be_shown(client: Any) -> None:
    def odi() -> dict[str, Any]:
        listing = client.get("/api/v1/instruments/").json()
        return next(i for i in listing if i["code"] == "odi")

    before = odi()
    assert before["text_available"] is False
    assert before["content_pack"] is None
    phq9 = next(i for i in client.get("/api/v1/instruments/").json() if i["code"] == "phq9")
    assert phq9["text_available"] is True

    content_pack_load(actor=Actor.system("test"), data=odi_pack())
    after = odi()
    assert after["text_available"] is True
    english = after["content_pack"]["en"]
    assert (english["version"], english["kind"]) == (1, "test")
    assert english["sections"]["section10"]["statements"][5] == "Test statement 10.5 (scores 5)"
    assert "zh-hans" not in after["content_pack"]

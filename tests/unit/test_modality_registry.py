"""The modality registry: complete, every limit sourced, and the package pure (no Django)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import therapies.modalities as package
from therapies.modalities import MODALITIES, Modality
from therapies.models import MODALITY_CHOICES

PACKAGE_DIR = Path(package.__file__).parent

# A source is a publication (author et al. year), a product label, a published
# guideline, the shared clinical reference, or a named clinic policy.
SOURCE = re.compile(r"et al\. (19|20)\d\d|\blabel\b|Guidelines|shared reference|^Clinic policy")


def test_registry_covers_every_modality_a_plan_component_may_store():
    stored = {code for code, _ in MODALITY_CHOICES}
    assert stored == set(MODALITIES)
    for code, name in MODALITY_CHOICES:
        assert MODALITIES[code].name.en == name


def test_every_modality_defined_in_the_package_is_registered():
    defined = []
    for info in pkgutil.iter_modules([str(PACKAGE_DIR)]):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        defined += [value for value in vars(module).values() if isinstance(value, Modality)]
    assert defined
    assert {modality.code for modality in defined} == set(MODALITIES)
    assert all(MODALITIES[modality.code] is modality for modality in defined)


@pytest.mark.parametrize(
    "limit", [limit for m in MODALITIES.values() for limit in m.limits], ids=lambda limit: limit.code
)
def test_every_limit_names_its_source(limit):
    assert limit.source.strip() == limit.source
    assert SOURCE.search(limit.source), limit.source


def test_package_imports_only_the_standard_library():
    # Read the sources rather than sys.modules: the test process has Django loaded, and
    # an import hidden inside a function must count too.
    found = set()
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    assert "django" not in found
    assert found <= set(sys.stdlib_module_names), found - set(sys.stdlib_module_names)


def test_names_in_either_language_without_django():
    assert {code: m.short_name_in("zh-hans") for code, m in MODALITIES.items()} == {
        "tdcs": "tDCS",
        "rtms": "rTMS",
        "exercise": "运动治疗",
        "manual_therapy": "手法治疗",
        "acupuncture": "针刺",
        "tens": "TENS",
        "pns": "PNS",
        "hydrodissection": "神经水分离",
        "physical_agents": "物理因子",
        "medication": "药物",
        "drez_referral": "DREZ 转诊",
    }
    assert MODALITIES["manual_therapy"].short_name_in("en") == "manual therapy"
    assert MODALITIES["tdcs"].name.in_language("zh-hans") == "经颅直流电刺激(tDCS)"
    assert MODALITIES["tdcs"].name.in_language(None) == "Transcranial direct current stimulation (tDCS)"

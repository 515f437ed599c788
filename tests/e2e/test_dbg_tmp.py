import time, uuid
import pytest
from django.utils import timezone
from assessments.models import Assessment
from tests.e2e.test_patient_pwa import go, js, until_controlled, set_offline, queue_states, wait_for, run_async, db
pytestmark = [pytest.mark.e2e]
@pytest.mark.parametrize("n", range(6))
def test_dbg(n, browser, network, live_server, pwa_patient, sign_in):
    sign_in("e2e-patient")
    until_controlled(browser)
    set_offline(browser, network, True)
    pk = pwa_patient.pk
    run_async(browser, f"RehabQueue.enqueue({pk}, 'assessment', {{instrument: 'nrs', answers: {{score: 11}}}}, {{label: 'NRS 11'}})")
    row = run_async(browser, f"RehabQueue.enqueue({pk}, 'assessment', {{instrument: 'nrs', answers: {{score: 3}}}}, {{label: 'NRS 3'}})")
    Assessment.objects.create(patient=pwa_patient, instrument="nrs", answers={"score": 3, "recall": "now"}, total=3, recorded_at=timezone.now(), client_uuid=uuid.UUID(row["client_uuid"]))
    set_offline(browser, network, False)
    time.sleep(4)
    st = queue_states(browser)
    if st != ["rejected", "synced"] and sorted(st) != ["rejected", "synced"]:
        print("STUCK", st)
        browser.set_script_timeout(8)
        try:
            print("LOCKS", run_async(browser, "navigator.locks.query().then(function (q) { return JSON.stringify(q); })"))
            print("DIRECT", run_async(browser, "RehabQueue.sync()"))
        except Exception as e:
            print("HANG", type(e).__name__)
        print("AFTER", queue_states(browser))

"""Capture: how an assessment enters the system.

This room owns the one write path for assessments (:func:`.services.assessment_record`:
scoring with the pure instrument, exactly-once storage per client uuid, the PHQ-9 item 9
safety episode, audit), the REST API and the offline sync endpoint (:mod:`.api`), the
licensed instrument texts a clinic loads as content packs (:mod:`.content_packs`), reads
of a patient's entries (:mod:`.selectors`) and the repair of mis-decoded stored text.
"""

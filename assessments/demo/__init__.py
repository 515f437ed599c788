"""Demo data: the demo clinic's diaries and questionnaires (:mod:`.history`), the
synthetic cohort that fills the outcomes dashboard (:mod:`.synthetic`), and the
placeholder content packs that say the clinic must load the licensed text (``packs/``)."""

"""The FHIR R4 export: a patient's assessments as a Bundle of QuestionnaireResponses and
Observations with LOINC codes (:mod:`.export`, :mod:`.definitions`), and its API."""

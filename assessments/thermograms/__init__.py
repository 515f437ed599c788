"""Thermograms: from the camera's radiometric image to mirrored regions and ΔT.

This room owns decoding FLIR radiometric JPEG, temperature-matrix CSV and radiometric TIFF
into a temperature matrix, rendering it on a scale shared by a patient's visits, and
measuring regions mirrored across the midline (:mod:`.imaging`, pure numpy); storing the
image and turning a measurement into a normal thermal assessment (:mod:`.services`); and
the upload and region API (:mod:`.api`).
"""

"""Datasets. Generic pieces here: the prepared-dataset format (`prepared`), batching and
flips (`batching`, `flips`), resampling, splits, safe zip reading, NIfTI loading; one
subpackage per dataset (`clevr_seg`, `acdc`) with its reader, synthetic generator,
preparation and augmentation rule."""

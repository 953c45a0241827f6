"""Datasets: readers of the published CLEVR-Seg and ACDC layouts, synthetic writers,
the prepared-dataset format and batching."""

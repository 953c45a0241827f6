"""ACDC (cardiac cine MRI): the reader of the published layout (`reader`), synthetic
phantoms (`phantom`), preparation into conditioned 2-D slices (`prepare`) and the rule by
which flips change its conditions (`augment`)."""

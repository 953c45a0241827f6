"""CLEVR-Seg: the reader of the published layout (`reader`), a synthetic generator
(`synthetic`), preparation into the prepared format (`prepare`) and the rule by which
flips change its conditions (`augment`)."""

"""The condition encoding of `prepare folder` on tables with gaps and new categories:
what a gap is, the `indicator` policy's fill values and `NAME:missing` entries and their
order in `z`, unknown categories ignored at prediction, the JSON round trip, and
encodings stored before gaps could be encoded."""

import json

import numpy as np
import pytest

from inside_keras.data.folder.conditions import (
    NA_VALUES,
    ConditionColumn,
    ConditionEncoding,
    EncodingNotes,
)
from inside_keras.errors import InputError

#: Six cases; c4 and c5 are not in the training split.
TRAINING = ["c0", "c1", "c2", "c3"]


def table(**columns):
    """`{case: {column: text}}` of the cases c0, c1, ... from columns of texts."""
    lengths = {len(values) for values in columns.values()}
    (n,) = lengths
    return {f"c{i}": {name: values[i] for name, values in columns.items()} for i in range(n)}


def encode_all(encoding, rows, **kwargs):
    return np.stack([encoding.encode(case, row, **kwargs) for case, row in rows.items()])


def test_without_gaps_the_encoding_is_as_before():
    rows = table(age=["40", "42", "44", "46", "90", "1"], side=["l", "r", "l", "r", "l", "r"])
    encoding = ConditionEncoding.fit(rows, ["age", "side"], TRAINING, missing="indicator")
    assert [column.indicator for column in encoding.columns] == [False, False]
    assert encoding.width == 3
    z = encode_all(encoding, rows)
    ages = np.array([40, 42, 44, 46], np.float64)
    np.testing.assert_allclose(z[:4, 0], (ages - ages.mean()) / ages.std(), rtol=1e-6)
    np.testing.assert_array_equal(z[:, 1:], [[1, 0], [0, 1]] * 3)
    plain = ConditionEncoding.fit(rows, ["age", "side"], TRAINING)
    np.testing.assert_array_equal(encode_all(plain, rows), z)


@pytest.mark.parametrize("gap", NA_VALUES)
def test_each_gap_spelling_stops_the_default_fit_naming_case_and_column(gap):
    rows = table(age=["40", "42", gap, "46", "48", "50"])
    with pytest.raises(InputError) as error:
        ConditionEncoding.fit(rows, ["age"], TRAINING, source="t.csv")
    message = str(error.value)
    assert message.startswith("t.csv: case 'c2': no value in column 'age'")
    assert "--missing indicator" in message and "\n" not in message


def test_the_error_counts_the_other_gaps():
    rows = table(side=["l", "", "NA", "r", "null", "r"])
    with pytest.raises(InputError, match=r"case 'c1'.*'side' \(an empty cell\), nor for 2 more"):
        ConditionEncoding.fit(rows, ["side"], TRAINING)


@pytest.mark.parametrize("value", ["None", "-", "?", "na", "Nan", "NONE", "."])
def test_other_spellings_are_values(value):
    rows = table(side=["l", value, "l", "r", "l", "r"])
    encoding = ConditionEncoding.fit(rows, ["side"], TRAINING)
    assert encoding.columns[0].categories == tuple(sorted({"l", "r", value}))


def test_indicator_numeric_gaps_filled_with_the_training_mean_and_flagged():
    # Gaps in training (c1), in validation (c4); "NA" does not make the column text.
    rows = table(age=["40", "", "44", "50", "NA", "100"], side=["l", "r", "l", "r", "l", "r"])
    encoding = ConditionEncoding.fit(rows, ["age", "side"], TRAINING, missing="indicator")
    age, side = encoding.columns
    assert age.kind == "numeric" and age.indicator and not side.indicator
    train = np.array([40, 44, 50], np.float64)  # the training values, the gap left out
    assert age.mean == pytest.approx(train.mean()) and age.std == pytest.approx(train.std())
    z = encode_all(encoding, rows)
    assert z.shape == (6, 4) and z.dtype == np.float32
    # z = [age, age:missing, side=l, side=r]
    expected_age = (np.array([40, 0, 44, 50, 0, 100]) - train.mean()) / train.std()
    expected_age[[1, 4]] = 0.0  # a gap: the mean, i.e. 0 once standardised
    np.testing.assert_allclose(z[:, 0], expected_age, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(z[:, 1], [0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(z[:, 2:], [[1, 0], [0, 1]] * 3)
    assert [label for column in encoding.columns for label in column.labels] == [
        "age",
        "age:missing",
        "side=l",
        "side=r",
    ]
    assert encoding.gaps(rows) == {"age": 2}


def test_indicator_categorical_gap_is_all_zeros_and_flagged():
    rows = table(side=["l", "r", "n/a", "r", "l", "NaN"], age=["1", "2", "3", "4", "5", "6"])
    encoding = ConditionEncoding.fit(rows, ["side", "age"], TRAINING, missing="indicator")
    side, age = encoding.columns
    assert side.categories == ("l", "r") and side.indicator and not age.indicator
    assert side.labels == ["side=l", "side=r", "side:missing"] and encoding.width == 4
    z = encode_all(encoding, rows)
    np.testing.assert_array_equal(
        z[:, :3], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1]]
    )


def test_columns_without_any_value_or_training_value_are_refused():
    rows = table(age=["", "NA", "", "nan", "", ""])
    with pytest.raises(InputError, match="column 'age' has no value in any case"):
        ConditionEncoding.fit(rows, ["age"], TRAINING, missing="indicator")
    rows = table(age=["", "NA", "", "nan", "3", "4"])
    with pytest.raises(InputError, match="no value in the training split"):
        ConditionEncoding.fit(rows, ["age"], TRAINING, missing="indicator")
    with pytest.raises(InputError, match="allowed: error, indicator"):
        ConditionEncoding.fit(rows, ["age"], TRAINING, missing="mean")


def test_json_round_trip_keeps_the_policy_and_the_indicators():
    rows = table(age=["40", "", "44", "50", "NA", "100"], side=["l", "r", "", "r", "l", "r"])
    encoding = ConditionEncoding.fit(rows, ["side", "age"], TRAINING, missing="indicator")
    text = encoding.to_json()
    stored = json.loads(text)
    assert stored["missing"] == "indicator" and stored["na_values"] == list(NA_VALUES)
    assert [column["indicator"] for column in stored["columns"]] == [True, True]
    again = ConditionEncoding.from_json(text)
    assert again == encoding
    np.testing.assert_array_equal(encode_all(again, rows), encode_all(encoding, rows))


#: What `to_json` wrote before gaps could be encoded.
OLD_JSON = (
    '{"columns": [{"name": "age", "kind": "numeric", "mean": 50.0, "std": 2.0, '
    '"categories": []}, {"name": "site", "kind": "categorical", "mean": 0.0, "std": 1.0, '
    '"categories": ["A", "NA"]}]}'
)


def test_an_old_encoding_loads_and_behaves_as_before():
    old = ConditionEncoding.from_json(OLD_JSON)
    assert old.missing == "error" and old.na_values == ("",)
    assert not any(column.indicator for column in old.columns) and old.width == 3
    # "NA" was a category like any other there, and still is.
    np.testing.assert_array_equal(old.encode("x", {"age": "52", "site": "NA"}), [1, 0, 1])
    with pytest.raises(InputError, match=r"case 'x', column 'age': no value \(an empty cell\)"):
        old.encode("x", {"age": "", "site": "A"})
    assert old.describe() == [
        "age: numeric, (value - 50) / 2",
        "site: one-hot over ['A', 'NA']",
    ]
    # Stored again, it reads back the same.
    assert ConditionEncoding.from_json(old.to_json()) == old


def test_a_new_gap_under_the_default_policy_is_an_error_at_prediction():
    rows = table(age=["40", "42", "44", "46", "48", "50"])
    encoding = ConditionEncoding.fit(rows, ["age"], TRAINING)
    with pytest.raises(InputError) as error:
        encoding.encode("n1", {"age": "NaN"}, source="new.csv")
    assert str(error.value) == (
        "new.csv: case 'n1', column 'age': no value ('NaN' counts as missing); the data were "
        "prepared without --missing indicator, so every condition needs one"
    )


def test_a_new_gap_in_a_column_that_had_none_is_filled_alike_and_noted():
    rows = table(age=["40", "", "44", "46", "48", "50"], side=["l", "r", "l", "r", "l", "r"])
    encoding = ConditionEncoding.fit(rows, ["age", "side"], TRAINING, missing="indicator")
    notes = EncodingNotes()
    z = encoding.encode("n1", {"age": "NA", "side": ""}, notes=notes)
    np.testing.assert_array_equal(z, [0, 1, 0, 0])  # age 0 and flagged, side all zeros
    encoding.encode("n2", {"age": "44", "side": "null"}, notes=notes)
    assert notes.filled == {"side": {"n1", "n2"}} and not notes.unknown
    (line,) = notes.lines()
    assert "column 'side' in 2 cases" in line


def test_unknown_categories_are_errors_or_all_zeros_noted_once():
    rows = table(side=["l", "r", "l", "r", "l", "r"], age=["1", "2", "3", "4", "5", "6"])
    encoding = ConditionEncoding.fit(rows, ["side", "age"], TRAINING)
    with pytest.raises(InputError, match=r"unknown category 'up'.*--unknown ignore"):
        encoding.encode("n1", {"side": "up", "age": "3"})
    notes = EncodingNotes()
    z = encoding.encode("n1", {"side": "up", "age": "2.5"}, unknown="ignore", notes=notes)
    np.testing.assert_array_equal(z, [0, 0, 0])  # age 2.5: the training mean
    for i, value in enumerate(["down", "up", "x" * 50, "l", "a", "b"]):
        encoding.encode(f"n{i + 2}", {"side": value, "age": "1"}, unknown="ignore", notes=notes)
    # A non-number in a numeric column is still an error.
    with pytest.raises(InputError, match="'abc' is not a finite number"):
        encoding.encode("n9", {"side": "l", "age": "abc"}, unknown="ignore", notes=notes)
    (line,) = notes.lines()
    assert line.startswith("categories unseen in training, encoded as all zeros")
    assert "column 'side': ['up', 'down', 'xxxxxxxxxxxxxxxxx...', 'a', ...] (5 in all)" in line
    assert line.endswith("in 6 cases")  # n1 to n7 but n5 ('l' is known)


def test_describe_says_how_gaps_are_encoded():
    rows = table(age=["40", "", "44", "46", "48", "50"], side=["l", "r", "NA", "r", "l", "r"])
    encoding = ConditionEncoding.fit(rows, ["age", "side"], TRAINING, missing="indicator")
    lines = encoding.describe()
    assert lines[0].endswith("; a gap: 0 and age:missing = 1")
    assert lines[1] == "side: one-hot over ['l', 'r']; a gap: all zeros and side:missing = 1"
    assert lines[2] == "gaps (--missing indicator): an empty cell or " + ", ".join(NA_VALUES[1:])


def test_a_column_built_by_hand_has_no_indicator():
    column = ConditionColumn("side", "categorical", categories=("a", "b"))
    assert column.width == 2 and column.labels == ["side=a", "side=b"]


def test_notes_keep_only_the_cases_predicted():
    notes = EncodingNotes()
    notes.add_unknown("side", "up", "n1")
    notes.add_unknown("side", "down", "n2")
    notes.add_unknown("site", "X", "n2")
    notes.add_filled("age", "n1")
    notes.add_filled("scanner", "n2")
    notes.keep(["n1", "n3"])
    assert notes.unknown == {"side": {"up": {"n1"}}} and notes.filled == {"age": {"n1"}}
    assert notes.lines()[0].endswith("column 'side': ['up'] in 1 case")
    notes.keep([])
    assert notes.lines() == []

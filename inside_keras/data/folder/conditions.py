"""The condition of each case from a CSV table, and its encoding into `z`.

A table has one row per case: an id column and condition columns. A column whose
values (gaps aside) all parse as finite numbers is *numeric*: standardised with the
mean and the standard deviation of the training split (a constant column gives 0). Any
other column is *categorical*: one-hot over its categories in sorted order. `z`
concatenates the columns in the order given.

A *gap* (a missing value) is a cell that is empty or, after stripping spaces, exactly
one of `NA_VALUES`: `NA`, `N/A`, `n/a`, `NaN`, `nan`, `NULL`, `null` (nothing else:
`None`, `-` or `?` are values, a category like any other). What happens to gaps is the
encoding's `missing` policy:

- `"error"` (the default): a gap stops the fit, naming the case and the column.
- `"indicator"` (as DAFT does, Pölsterl et al., MICCAI 2021): every column with a gap
  in the table gets a 0/1 entry `NAME:missing` right after its own entries in `z`
  (1 for a gap). A numeric gap is filled with the training mean, i.e. 0 after
  standardisation; a categorical gap is all zeros over the categories (the same vector
  as a "missing" category placed last, but without clashing with a real category of
  that name, and one rule for both kinds). Columns without gaps get no indicator, so
  `z` is as without the policy when nothing is missing.

`z`'s order, column by column as given: a numeric column's value, or a categorical
column's one-hot in sorted category order; then its `NAME:missing` entry if it has one
(`ConditionColumn.labels`). `prepare folder` may append `slice_position` after all.

The encoding (`ConditionEncoding`) is fitted on the training cases only, stored in the
prepared data (`to_json`, with its policy and its gap spellings) and applied unchanged
to new cases at prediction time. There an unknown category is an error, not a silent
zero vector, unless asked for (`unknown="ignore"`: all zeros for that column, noted in
an `EncodingNotes`); a gap is an error under `"error"`, and under `"indicator"` is
encoded as above, also in a column that had no gap in the table: filled the same way
(0, or all zeros) without an indicator, as `z`'s width is fixed, and noted. Encodings
written before gaps could be encoded (no `missing`, no `na_values`) load as `"error"`
with an empty cell as the only gap, as they behaved.
"""

import csv
import dataclasses
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inside_keras.errors import InputError

#: Largest condition table read, in bytes.
MAX_TABLE_BYTES = 64 * 1024 * 1024
#: The kinds of condition column.
KINDS = ("numeric", "categorical")
#: What a gap does when fitting (`prepare folder --missing`).
MISSING = ("error", "indicator")
#: What an unknown category does when encoding new cases (`predict --unknown`).
UNKNOWN = ("error", "ignore")
#: The texts of a gap: a cell (stripped of spaces) equal to one of them, case and all.
NA_VALUES = ("", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null")
#: The gaps of an encoding stored without `na_values` (before gaps could be encoded).
LEGACY_NA_VALUES = ("",)
#: The label of a column's indicator entry in `z`: `NAME:missing`.
INDICATOR_SUFFIX = ":missing"


def _shown(value, width=60):
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def read_table(path, id_column="id"):
    """Read a CSV condition table.

    Args:
        path: the CSV file (UTF-8, a header row).
        id_column: the column naming each case.

    Returns:
        `(columns, rows)`: the header's column names and a dict case id -> row (a dict
        column -> text).

    Raises:
        InputError: a missing, too large, not-text or malformed file; no id column; an
            empty or repeated id.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such condition table (a CSV file)", path)
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise InputError(f"is {size} bytes; a condition table may have {MAX_TABLE_BYTES}", path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text; expected a CSV table", path) from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        columns = list(reader.fieldnames or [])
        records = list(reader)
    except csv.Error as error:
        raise InputError(f"malformed CSV ({error})", path) from None
    if id_column not in columns:
        raise InputError(
            f"has no id column {id_column!r}; its columns: {_shown(columns)} "
            "(choose one with --id-column)",
            path,
        )
    rows = {}
    for line, record in enumerate(records, start=2):
        if None in record or any(value is None for value in record.values()):
            raise InputError(f"line {line} has {len(columns)} columns expected", path)
        case = record[id_column].strip()
        if not case:
            raise InputError(f"line {line}: empty {id_column!r}", path)
        if case in rows:
            raise InputError(f"line {line}: case {_shown(case)!r} appears twice", path)
        rows[case] = {key: value.strip() for key, value in record.items()}
    return columns, rows


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _cases(count):
    return f"{count} case" if count == 1 else f"{count} cases"


def _few(values, limit=4):
    """`['a', 'b']`, or the first `limit` values (each shortened) and how many more."""
    values = list(values)
    shown = repr([_shown(value, 20) for value in values[:limit]])
    return shown if len(values) <= limit else f"{shown[:-1]}, ...] ({len(values)} in all)"


def _gap_text(text):
    return "an empty cell" if text == "" else f"{text!r} counts as missing"


@dataclass(frozen=True)
class ConditionColumn:
    """How one column is encoded.

    Attributes:
        name: the column.
        kind: `"numeric"` or `"categorical"`.
        mean: numeric: the training split's mean (of its values, gaps left out).
        std: numeric: the training split's standard deviation (1 if it was 0).
        categories: categorical: the categories in one-hot order.
        indicator: the column had gaps: a 0/1 entry `NAME:missing` follows its entries.
    """

    name: str
    kind: str
    mean: float = 0.0
    std: float = 1.0
    categories: tuple = ()
    indicator: bool = False

    @property
    def width(self):
        """Entries of `z` this column takes."""
        return (1 if self.kind == "numeric" else len(self.categories)) + int(self.indicator)

    @property
    def labels(self):
        """A name for each entry of `z` this column takes."""
        if self.kind == "numeric":
            labels = [self.name]
        else:
            labels = [f"{self.name}={category}" for category in self.categories]
        return labels + ([self.name + INDICATOR_SUFFIX] if self.indicator else [])


class EncodingNotes:
    """What `ConditionEncoding.encode` let through rather than stopping, for one warning
    line each (`lines`) after many cases: unknown categories encoded as all zeros
    (`unknown="ignore"`), and gaps filled in columns without an indicator entry."""

    def __init__(self):
        self.unknown = {}  # column -> {value (first seen first): set of cases}
        self.filled = {}  # column -> set of cases

    def add_unknown(self, column, value, case):
        self.unknown.setdefault(column, {}).setdefault(value, set()).add(case)

    def add_filled(self, column, case):
        self.filled.setdefault(column, set()).add(case)

    def keep(self, cases):
        """Forget what was noted of cases other than `cases` (those left out by a limit)."""
        cases = set(cases)
        unknown = {
            name: {value: seen & cases for value, seen in values.items() if seen & cases}
            for name, values in self.unknown.items()
        }
        self.unknown = {name: values for name, values in unknown.items() if values}
        self.filled = {name: seen & cases for name, seen in self.filled.items() if seen & cases}

    def lines(self):
        """One line on the unknown categories, one on the filled gaps (none if none)."""
        lines = []
        if self.unknown:
            parts = [
                f"column {name!r}: {_few(values)} in {_cases(len(set().union(*values.values())))}"
                for name, values in self.unknown.items()
            ]
            lines.append(
                "categories unseen in training, encoded as all zeros (--unknown ignore): "
                + "; ".join(parts)
            )
        if self.filled:
            parts = [f"column {name!r} in {_cases(len(c))}" for name, c in self.filled.items()]
            lines.append(
                "gaps in columns that had none when the data were prepared, filled (0, or all "
                "zeros) without a NAME:missing entry in z: " + "; ".join(parts)
            )
        return lines


@dataclass(frozen=True)
class ConditionEncoding:
    """The encoding of condition columns into `z`, fitted on the training cases.

    Attributes:
        columns: a `ConditionColumn` per column, in `z`'s order.
        missing: what a gap does, one of `MISSING`.
        na_values: the texts of a gap (`NA_VALUES`; `LEGACY_NA_VALUES` for encodings
            stored before gaps could be encoded).
    """

    columns: tuple
    missing: str = "error"
    na_values: tuple = NA_VALUES

    @classmethod
    def fit(cls, rows, names, training_cases, source="conditions", missing="error"):
        """Fit the encoding of the columns `names` on `rows[case]` of `training_cases`.

        A column's kind and categories come from all of `rows`, its mean and standard
        deviation from the training cases; with `missing="indicator"` a column with a gap
        in any of `rows` gets an indicator entry.

        Args:
            rows: case id -> row (column -> text), from `read_table`.
            names: the condition columns, in order.
            training_cases: the cases of the training split.
            source: the table, named in errors.
            missing: one of `MISSING`.

        Raises:
            InputError: a gap (`missing="error"`); no training case; a column without
                any value, or a numeric one without a value in the training split.
        """
        from inside_keras.config import check_choice

        check_choice(missing, MISSING, "missing")
        if not training_cases:
            raise InputError("no case in the training split to fit the condition on", source)
        columns = []
        for name in names:
            gaps = [case for case in rows if rows[case][name] in NA_VALUES]
            if gaps and missing == "error":
                first = gaps[0]
                more = f", nor for {len(gaps) - 1} more" if len(gaps) > 1 else ""
                them = "them" if more else "it"
                raise InputError(
                    f"case {_shown(first)!r}: no value in column {name!r} "
                    f"({_gap_text(rows[first][name])}){more}; fill {them} in, or give "
                    "--missing indicator to encode gaps (a gap: an empty cell or "
                    f"{', '.join(NA_VALUES[1:])})",
                    source,
                )
            values = [rows[case][name] for case in rows if rows[case][name] not in NA_VALUES]
            if not values:
                raise InputError(
                    f"column {name!r} has no value in any case; leave it out of "
                    "--condition-columns",
                    source,
                )
            if all(_number(value) is not None for value in values):
                texts = [rows[case][name] for case in training_cases]
                train = np.array([_number(text) for text in texts if text not in NA_VALUES])
                if train.size == 0:
                    raise InputError(
                        f"numeric column {name!r} has no value in the training split, so its "
                        "mean and standard deviation cannot be fitted; fill some in, or leave "
                        "it out of --condition-columns",
                        source,
                    )
                std = float(train.std())
                column = ConditionColumn(
                    name, "numeric", float(train.mean()), std if std > 0 else 1.0
                )
            else:
                column = ConditionColumn(name, "categorical", categories=tuple(sorted(set(values))))
            columns.append(dataclasses.replace(column, indicator=bool(gaps)))
        return cls(tuple(columns), missing=missing, na_values=NA_VALUES)

    @property
    def width(self):
        """The length of `z`."""
        return sum(column.width for column in self.columns)

    def gaps(self, rows):
        """`{column: number of rows with a gap there}`, for the columns with any."""
        counts = {}
        for column in self.columns:
            count = sum(row.get(column.name, "") in self.na_values for row in rows.values())
            if count:
                counts[column.name] = count
        return counts

    def encode(self, case, row, source="conditions", unknown="error", notes=None):
        """`z` of one case: float32 `(width,)`.

        Args:
            case: the case, named in errors.
            row: its row (column -> text).
            source: the table, named in errors.
            unknown: one of `UNKNOWN`: an unknown category stops (`"error"`), or is
                encoded as all zeros for its column (`"ignore"`).
            notes: an `EncodingNotes` that records the unknown categories ignored and the
                gaps filled in columns without an indicator, or None.

        Raises:
            InputError: a gap (policy `"error"`), a non-numeric value in a numeric
                column, or (`unknown="error"`) a category the encoding does not know,
                naming the case and the column.
        """
        parts = []
        for column in self.columns:
            text = row.get(column.name, "")
            where = f"case {_shown(case)!r}, column {column.name!r}"
            gap = text in self.na_values
            if gap and not column.indicator:
                if self.missing == "error":
                    raise InputError(
                        f"{where}: no value ({_gap_text(text)}); the data were prepared "
                        "without --missing indicator, so every condition needs one",
                        source,
                    )
                # `indicator`, a column that had no gap in the table fitted on: `z`'s width
                # is fixed, so the gap is filled as in the columns that had gaps, without an
                # indicator entry (scikit-learn's SimpleImputer(add_indicator=True) does
                # the same), and noted for a warning.
                if notes is not None:
                    notes.add_filled(column.name, case)
            if column.kind == "numeric":
                if gap:
                    values = [0.0]  # the training mean, standardised
                else:
                    value = _number(text)
                    if value is None:
                        raise InputError(
                            f"{where}: {_shown(text)!r} is not a finite number", source
                        )
                    values = [(value - column.mean) / column.std]
            else:
                values = [0.0] * len(column.categories)
                if gap:
                    # All zeros, and the indicator after: rather than "missing" as a
                    # category of its own, which gives the same vector (placed last) but
                    # could clash with a real category of that name; so both kinds of
                    # column share one rule, their entries then their indicator.
                    pass
                elif text in column.categories:
                    values[column.categories.index(text)] = 1.0
                elif unknown == "ignore":
                    if notes is not None:
                        notes.add_unknown(column.name, text, case)
                else:
                    raise InputError(
                        f"{where}: unknown category {_shown(text)!r}; known: "
                        f"{_shown(list(column.categories))} (or give --unknown ignore to "
                        "encode it as all zeros)",
                        source,
                    )
            if column.indicator:
                values.append(1.0 if gap else 0.0)
            parts.append(values)
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

    def to_json(self):
        """The encoding as a JSON text (stored in the prepared data)."""
        return json.dumps(
            {
                "columns": [vars(column) for column in self.columns],
                "missing": self.missing,
                "na_values": list(self.na_values),
            }
        )

    @classmethod
    def from_json(cls, text):
        """The encoding `to_json` wrote, also one stored before gaps could be encoded
        (no `missing`, `na_values` or `indicator`: the policy `"error"`, gaps only empty
        cells, no indicators)."""
        stored = json.loads(text)
        columns = []
        for column in stored["columns"]:
            column["categories"] = tuple(column["categories"])
            columns.append(ConditionColumn(**column))
        return cls(
            tuple(columns),
            missing=stored.get("missing", "error"),
            na_values=tuple(stored.get("na_values", LEGACY_NA_VALUES)),
        )

    def describe(self):
        """Lines saying how each column is encoded."""
        lines = []
        for column in self.columns:
            if column.kind == "numeric":
                line = f"{column.name}: numeric, (value - {column.mean:.4g}) / {column.std:.4g}"
                gap = "0"
            else:
                line = f"{column.name}: one-hot over {list(column.categories)}"
                gap = "all zeros"
            if column.indicator:
                line += f"; a gap: {gap} and {column.name}{INDICATOR_SUFFIX} = 1"
            lines.append(line)
        if self.missing == "indicator":
            spellings = ", ".join(self.na_values[1:])
            lines.append(f"gaps (--missing indicator): an empty cell or {spellings}")
        return lines

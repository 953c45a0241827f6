"""The condition of each case from a CSV table, and its encoding into `z`.

A table has one row per case: an id column and condition columns. A column whose
values all parse as finite numbers is *numeric*: standardised with the mean and the
standard deviation of the training split (a constant column gives 0). Any other column
is *categorical*: one-hot over its categories in sorted order. `z` concatenates the
columns in the order given.

The encoding (`ConditionEncoding`) is fitted on the training cases only, stored in the
prepared data (`to_json`) and applied unchanged to new cases at prediction time, where
an unknown category is an error, not a silent zero vector.
"""

import csv
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


@dataclass(frozen=True)
class ConditionColumn:
    """How one column is encoded.

    Attributes:
        name: the column.
        kind: `"numeric"` or `"categorical"`.
        mean: numeric: the training split's mean.
        std: numeric: the training split's standard deviation (1 if it was 0).
        categories: categorical: the categories in one-hot order.
    """

    name: str
    kind: str
    mean: float = 0.0
    std: float = 1.0
    categories: tuple = ()

    @property
    def width(self):
        """Entries of `z` this column takes."""
        return 1 if self.kind == "numeric" else len(self.categories)

    @property
    def labels(self):
        """A name for each entry of `z` this column takes."""
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={category}" for category in self.categories]


@dataclass(frozen=True)
class ConditionEncoding:
    """The encoding of condition columns into `z`, fitted on the training cases.

    Attributes:
        columns: a `ConditionColumn` per column, in `z`'s order.
    """

    columns: tuple

    @classmethod
    def fit(cls, rows, names, training_cases, source="conditions"):
        """Fit the encoding of the columns `names` on `rows[case]` of `training_cases`.

        Args:
            rows: case id -> row (column -> text), from `read_table`.
            names: the condition columns, in order.
            training_cases: the cases of the training split.
            source: the table, named in errors.

        Raises:
            InputError: a missing value, or no training case.
        """
        if not training_cases:
            raise InputError("no case in the training split to fit the condition on", source)
        columns = []
        for name in names:
            values = [rows[case][name] for case in rows]
            for case in rows:
                if rows[case][name] == "":
                    raise InputError(f"case {_shown(case)!r}: no value in column {name!r}", source)
            numbers = [_number(value) for value in values]
            if all(number is not None for number in numbers):
                train = np.array([_number(rows[case][name]) for case in training_cases])
                std = float(train.std())
                columns.append(
                    ConditionColumn(name, "numeric", float(train.mean()), std if std > 0 else 1.0)
                )
            else:
                columns.append(
                    ConditionColumn(name, "categorical", categories=tuple(sorted(set(values))))
                )
        return cls(tuple(columns))

    @property
    def width(self):
        """The length of `z`."""
        return sum(column.width for column in self.columns)

    def encode(self, case, row, source="conditions"):
        """`z` of one case: float32 `(width,)`.

        Raises:
            InputError: a missing or non-numeric value, or a category the encoding does
                not know (naming the case and the column).
        """
        parts = []
        for column in self.columns:
            text = row.get(column.name, "")
            where = f"case {_shown(case)!r}, column {column.name!r}"
            if text == "":
                raise InputError(f"{where}: no value", source)
            if column.kind == "numeric":
                value = _number(text)
                if value is None:
                    raise InputError(f"{where}: {_shown(text)!r} is not a finite number", source)
                parts.append([(value - column.mean) / column.std])
            else:
                if text not in column.categories:
                    raise InputError(
                        f"{where}: unknown category {_shown(text)!r}; known: "
                        f"{_shown(list(column.categories))}",
                        source,
                    )
                one_hot = [0.0] * len(column.categories)
                one_hot[column.categories.index(text)] = 1.0
                parts.append(one_hot)
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

    def to_json(self):
        """The encoding as a JSON text (stored in the prepared data)."""
        return json.dumps({"columns": [vars(column) for column in self.columns]})

    @classmethod
    def from_json(cls, text):
        """The encoding `to_json` wrote."""
        columns = []
        for column in json.loads(text)["columns"]:
            column["categories"] = tuple(column["categories"])
            columns.append(ConditionColumn(**column))
        return cls(tuple(columns))

    def describe(self):
        """Lines saying how each column is encoded."""
        lines = []
        for column in self.columns:
            if column.kind == "numeric":
                lines.append(
                    f"{column.name}: numeric, (value - {column.mean:.4g}) / {column.std:.4g}"
                )
            else:
                lines.append(f"{column.name}: one-hot over {list(column.categories)}")
        return lines

"""`inside-keras info FILE.npz`: what a prepared dataset holds; `inside-keras info
--schema`: the experiment config's JSON schema."""

from pathlib import Path


def register(subparsers):
    parser = subparsers.add_parser(
        "info",
        help="Describe a prepared dataset: samples, splits, classes, condition encoding.",
        description="Print the sample count per split, the shapes and classes, and how z is "
        "encoded (prepare folder: each column's standardisation or categories); or, with "
        "--schema, the experiment config's JSON schema.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("data", nargs="?", type=Path, help="prepared dataset (.npz)")
    what.add_argument(
        "--schema",
        action="store_true",
        help="print the experiment config's JSON schema (for editors and validators)",
    )
    parser.set_defaults(func=run)


def run(args):
    if args.schema:
        import json

        from inside_keras.config import config_schema

        print(json.dumps(config_schema(), indent=2))
        return 0
    import numpy as np

    from inside_keras.data.mapped import blocks
    from inside_keras.data.prepared import load_metadata, load_prepared, split_counts

    # Mapped, and class ids collected a block at a time: a dataset larger than memory
    # can be described.
    arrays, metadata = load_prepared(args.data, mmap=True), load_metadata(args.data)
    splits = arrays["split"]
    counts = split_counts(splits)
    x, y, z = arrays["x"], arrays["y"], arrays["z"]
    print(f"{args.data}: {len(x)} samples ({counts})")
    print(f"  x {x.dtype} {x.shape}; y {y.dtype} {y.shape}; z {z.dtype} {z.shape}")
    classes = metadata.get("classes")
    if classes:
        print("  classes: " + ", ".join(f"{key} {name}" for key, name in classes.items()))
    else:
        ids = set().union(*(np.unique(block).astype(int).tolist() for block in blocks(y)))
        print(f"  class ids: {sorted(ids)}")
    conditions = metadata.get("conditions")
    if conditions:
        import json

        from inside_keras.data.folder.conditions import ConditionEncoding

        encoding = ConditionEncoding.from_json(json.dumps(conditions["encoding"]))
        print("  z = [" + ", ".join(conditions["z"]) + "]")
        for line in encoding.describe():
            print(f"    {line}")
        if conditions.get("slice_position"):
            print("    slice_position: k / (slices - 1) of each slice of a volume")
    return 0

"""Command-line options several commands share."""


def add_set_argument(parser, what="the experiment config"):
    """`--set SECTION.KEY=VALUE` (repeatable) into `args.settings`: a dotted name of the
    experiment config (`inside_keras.config.set_dotted`), the same for every command."""
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help=f"override one value of {what} (repeatable), e.g. --set training.epochs=3 or "
        "--set model.conditioning_options.sigma_scale=0.5",
    )


def add_overwrite_argument(parser):
    """`--overwrite`: write into an output that holds files the command did not write
    (`inside_keras.runs.outputs.OutputFolder`; folders of the user's are never replaced)."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into --out even if it holds files of yours (files of the names this "
        "command writes are replaced; your folders never)",
    )

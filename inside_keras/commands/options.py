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

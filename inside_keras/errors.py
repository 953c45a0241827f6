"""Errors the command line reports as one line and exit code 2 (bad user input)."""


class InputError(Exception):
    """Bad user input: a file, field or value that is not what was expected.

    Args:
        message: what is wrong and what was expected.
        source: the file, field or argument at fault (printed first), or None.
    """

    def __init__(self, message, source=None):
        self.source = None if source is None else str(source)
        self.message = message
        super().__init__(f"{self.source}: {message}" if self.source else message)

    def __reduce__(self):
        # Keep `message` and `source` apart when pickled (errors from worker processes).
        return type(self), (self.message, self.source)

"""A griffe extension: Keras-style docstring sections, rendered by mkdocstrings.

The package's docstrings follow Keras's own layers: Google-style `Args:`, `Returns:`,
`Raises:`, plus `Call arguments:`, `Input shape:`, `Output shape:` and an `Example:`
whose doctest lines are not indented under it. Griffe's Google parser reads any other
`Title:` line followed by an indented block as an admonition titled so, which suits the
shape sections; this extension adjusts the text griffe parses (the source stays as it
is) so that the rest renders too:

- `Example:` / `Examples:` followed by a blank line and unindented lines becomes an
  indented `Examples:` section, so its `>>>` lines render as Python code;
- `Call arguments:` becomes a list of the arguments (an admonition holding one item per
  argument, as Keras's site shows them);
- `Input shape:` / `Output shape:` naming several inputs (`` `x`: ... `z`: ... ``) list
  them one per line;
- an argument entry naming several arguments at once (`pred, truth, spacing: as for
  ...`) becomes one entry per argument, with the same text, as griffe reads one name
  an entry (and checks each against the signature).

Loaded by mkdocs.yml (`plugins: mkdocstrings: handlers: python: options: extensions`).
"""

import re

import griffe

#: A section title on a line of its own, e.g. `Args:` or `Input shape:`.
TITLE = re.compile(r"^([A-Z][A-Za-z ]*):\s*$")
#: One argument of `Call arguments:`: `name: text` or `` `name`: text ``.
CALL_ITEM = re.compile(r"^`?([A-Za-z_]\w*)`?:\s+(.*)$")
#: One input of a shape section: `` `x`: text ``.
SHAPE_ITEM = re.compile(r"^(`[^`]+`):\s+(.*)$")
#: An `Args:` entry naming several arguments: `pred, truth, spacing: text`.
SHARED_ARGS = re.compile(r"^(\*{0,2}\w+(?:,\s*\*{0,2}\w+)+):(.*)$")
ARGS = ("Args", "Arguments", "Params", "Parameters")
EXAMPLES = ("Example", "Examples")
SHAPES = ("Input shape", "Output shape")


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _is_title(lines, index):
    """A section title at column 0 with a blank line (or the start) above it."""
    return bool(TITLE.match(lines[index])) and (index == 0 or not lines[index - 1].strip())


def _examples(lines, start):
    """Keras's unindented example after `Example:`: `(new lines, next index)` or None."""
    body = start + 1
    while body < len(lines) and not lines[body].strip():
        body += 1
    if body >= len(lines) or lines[body].startswith(" "):
        return None
    end = body
    while end < len(lines) and not _is_title(lines, end):
        end += 1
    block = [("    " + line) if line.strip() else "" for line in lines[body:end]]
    while block and not block[-1]:
        block.pop()
    return ["Examples:", *block, *([""] if end < len(lines) else [])], end


def _indented_block(lines, start):
    """The lines indented under the title at `start`: `(lines, next index)`."""
    end = start + 1
    while end < len(lines):
        indented = lines[end].startswith(" ")
        blank_within = not lines[end].strip() and lines[end + 1 : end + 2] != []
        if not (indented or (blank_within and lines[end + 1].startswith(" "))):
            break
        end += 1
    return lines[start + 1 : end], end


def _items(block, pattern):
    """Split a block into `(name, text)` items at the lines of its base indent that
    match `pattern`; None if a line before the first item matches nothing."""
    if not block:
        return None
    base = _indent(block[0])
    items = []
    for line in block:
        if not line.strip():
            continue
        match = pattern.match(line[base:]) if _indent(line) == base else None
        if match:
            items.append([match.group(1), match.group(2).strip()])
        elif items:
            items[-1][1] += " " + line.strip()
        else:
            return None
    return items


def _split_shared_args(block):
    """The `Args:` block with each entry that names several arguments repeated per name."""
    if not block:
        return block
    base = _indent(block[0])
    out = []
    index = 0
    while index < len(block):
        line = block[index]
        end = index + 1
        while end < len(block) and (_indent(block[end]) > base or not block[end].strip()):
            end += 1
        match = SHARED_ARGS.match(line[base:]) if _indent(line) == base else None
        if match:
            for name in match.group(1).split(","):
                out.append(" " * base + f"{name.strip()}:{match.group(2)}")
                out.extend(block[index + 1 : end])
        else:
            out.extend(block[index:end])
        index = end
    return out


def keras_to_google(text):
    """The docstring `text` with Keras's sections in the form griffe renders."""
    lines = text.split("\n")
    out = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = TITLE.match(line) if _is_title(lines, index) else None
        title = match.group(1) if match else None
        if title in EXAMPLES:
            converted = _examples(lines, index)
            if converted:
                new_lines, index = converted
                out.extend(new_lines)
                continue
        if title in ARGS:
            block, end = _indented_block(lines, index)
            out.append(line)
            out.extend(_split_shared_args(block))
            index = end
            continue
        if title == "Call arguments" or title in SHAPES:
            block, end = _indented_block(lines, index)
            pattern = CALL_ITEM if title == "Call arguments" else SHAPE_ITEM
            items = _items(block, pattern)
            if items and (title == "Call arguments" or len(items) > 1):
                out.append(line)
                for name, description in items:
                    name = name if name.startswith("`") else f"`{name}`"
                    out.append(f"    - {name}: {description}")
                index = end
                continue
        out.append(line)
        index += 1
    return "\n".join(out)


class KerasSections(griffe.Extension):
    """Rewrites each loaded object's docstring text with `keras_to_google`."""

    def on_instance(self, *, node, obj, agent, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = keras_to_google(obj.docstring.value)

"""Placement specifications: shortcuts, lists, mappings and their errors."""

import pytest

from inside_keras.models import SHORTCUTS, level_names, resolve_placement


def test_level_names_in_network_order():
    assert level_names(2) == ["enc0", "enc1", "bottleneck", "dec1", "dec0"]


@pytest.mark.parametrize(
    "placement, expected",
    [
        ("none", []),
        ("bottleneck", ["bottleneck"]),
        ("encoder", ["enc0", "enc1", "enc2", "enc3"]),
        ("decoder", ["dec3", "dec2", "dec1", "dec0"]),
        ("all", level_names(4)),
        ("first", ["enc0"]),
        ("last", ["dec0"]),
        (["dec0", "enc1"], ["enc1", "dec0"]),
    ],
)
def test_shortcuts_and_lists(placement, expected):
    resolved = resolve_placement(placement, 4, "film")
    assert list(resolved) == expected
    assert set(resolved.values()) <= {"film"}


def test_mapping_mixes_types_and_drops_none():
    resolved = resolve_placement(
        {"bottleneck": "inside", "enc0": "film", "dec0": "none"}, 2, "none"
    )
    assert resolved == {"enc0": "film", "bottleneck": "inside"}
    assert list(resolved) == ["enc0", "bottleneck"]


def test_conditioning_none_conditions_nothing():
    assert resolve_placement("all", 3, "none") == {}


@pytest.mark.parametrize("placement", ["enc4", ["enc0", "middle"], {"dec9": "film"}])
def test_unknown_level_lists_valid_names(placement):
    with pytest.raises(ValueError, match="bottleneck") as error:
        resolve_placement(placement, 4, "inside")
    assert "enc3" in str(error.value)


def test_unknown_shortcut_lists_shortcuts():
    with pytest.raises(ValueError, match="everywhere") as error:
        resolve_placement("everywhere", 4, "inside")
    assert all(name in str(error.value) for name in SHORTCUTS)


def test_unknown_layer_type_in_mapping():
    with pytest.raises(ValueError, match="guide_me"):
        resolve_placement({"enc0": "attention"}, 2, "inside")


@pytest.mark.parametrize("placement", [3, None, {"enc0"}])
def test_bad_placement_type(placement):
    with pytest.raises(ValueError, match="shortcut"):
        resolve_placement(placement, 2, "inside")


def test_unknown_conditioning():
    with pytest.raises(ValueError, match="'inside', 'film', 'guide_me', 'none'"):
        resolve_placement("bottleneck", 2, "spade")

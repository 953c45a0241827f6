"""Feature-map layouts: where a `data_format` puts the channel and spatial axes."""


def channel_axis(data_format):
    """The channel axis of a batched feature map: 1 for `"channels_first"`, else -1."""
    return 1 if data_format == "channels_first" else -1


def spatial_axes(rank, data_format):
    """The spatial axes of a batched feature map of rank `rank`, in order."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + rank - 2))

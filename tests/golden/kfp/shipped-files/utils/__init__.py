def scale(values, factor):
    """Multiply each value."""
    return [v * factor for v in values]

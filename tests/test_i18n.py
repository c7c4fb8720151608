from __future__ import annotations

import pytest

from tierslieux.i18n import format_figure, use_language


@pytest.mark.parametrize(
    ("value", "french", "english"),
    [
        (218.0, "218", "218"),
        (14055.186, "14\u202f055", "14,055"),
        (29.341, "29,3", "29.3"),
        (1.4, "1,4", "1.4"),
        (0.034, "0,034", "0.034"),
        (0.0, "0", "0"),
    ],
)
def test_format_figure_keeps_the_decimals_that_matter(
    value: float, french: str, english: str
) -> None:
    assert format_figure(value) == french
    with use_language("en"):
        assert format_figure(value) == english

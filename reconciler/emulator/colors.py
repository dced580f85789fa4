"""The card colour table that card/getcolors answers, exactly as the real answer in
tianye/WechatMpSDK's README gives it.

Other sources give other hex values for the same names; the emulator follows that
answer (including the upper-case ``#5E6671``), since that is a recorded answer of the real API.
"""

from __future__ import annotations

from typing import Final

COLORS: Final[tuple[tuple[str, str], ...]] = (
    ("Color010", "#63b359"),
    ("Color020", "#2c9f67"),
    ("Color030", "#509fc9"),
    ("Color040", "#5885cf"),
    ("Color050", "#9062c0"),
    ("Color060", "#d09a45"),
    ("Color070", "#e4b138"),
    ("Color080", "#ee903c"),
    ("Color081", "#f08500"),
    ("Color082", "#a9d92d"),
    ("Color090", "#dd6549"),
    ("Color100", "#cc463d"),
    ("Color101", "#cf3e36"),
    ("Color102", "#5E6671"),
)

COLOR_VALUES: Final[dict[str, str]] = dict(COLORS)

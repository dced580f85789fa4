"""Where a card's fields hold images, and how local paths among them are found and replaced (no I/O)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.resources.images import is_local, local_images, map_images

LOCAL = st.builds(lambda prefix, name: prefix + name, st.sampled_from(["./", "../"]), st.text(min_size=1, max_size=8))
URL = st.builds(lambda name: f"http://mmbiz.qpic.cn/mmbiz_png/{name}/0", st.text(min_size=1, max_size=8))
IMAGE = st.one_of(LOCAL, URL)
FIELDS = st.fixed_dictionaries(
    {"base_info.title": st.one_of(LOCAL, st.text())},  # a text that looks like a path is not an image field
    optional={
        "base_info.logo_url": IMAGE,
        "background_pic_url": IMAGE,
        "advanced_info.abstract.icon_url_list": st.lists(IMAGE, max_size=3),
        "advanced_info.text_image_list": st.lists(
            st.fixed_dictionaries({"text": st.text(max_size=4)}, optional={"image_url": IMAGE}), max_size=3
        ),
    },
)


@given(FIELDS)
def test_every_local_image_is_found_and_replaced_and_nothing_else_changes(fields: dict[str, object]) -> None:
    found = local_images(fields)
    replaced = map_images(fields, lambda path: f"uploaded:{path}")
    assert local_images(replaced) == {}
    assert replaced.keys() == fields.keys() and replaced["base_info.title"] == fields["base_info.title"]
    back = map_images(fields, lambda path: path)
    assert back == fields
    named = [value for values in found.values() for value in values]
    assert all(is_local(value) for value in named)
    assert str(replaced).count("uploaded:") == len(named)


def test_the_positions_of_images_in_a_card() -> None:
    fields = {
        "base_info.logo_url": "./logo.png",
        "background_pic_url": "http://mmbiz.qpic.cn/mmbiz/bg/0",
        "advanced_info.abstract.icon_url_list": ["../shared/icon.jpg", "http://mmbiz.qpic.cn/mmbiz/i/0"],
        "advanced_info.text_image_list": [{"image_url": "./a.png", "text": "a"}, {"text": "no image"}],
    }
    assert local_images(fields) == {
        "base_info.logo_url": ["./logo.png"],
        "advanced_info.abstract.icon_url_list": ["../shared/icon.jpg"],
        "advanced_info.text_image_list": ["./a.png"],
    }

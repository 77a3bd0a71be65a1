"""central/charts.py: server-side SVG bar charts (well-formed, proportional, escaped, labelled)."""

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.charts import LABEL, VALUE, WIDTH, Bar, bar_chart

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg):
    return ET.fromstring(str(svg))


def test_a_chart_is_an_image_named_by_its_title():
    root = parse(bar_chart([Bar("D01", 3)], title="Voix par projet", chart_id="c1"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title"
    assert root.find("s:title", NS).text == "Voix par projet"
    assert root.find("s:title", NS).get("id") == "c1-title"


def test_bar_lengths_are_proportional_and_kinds_become_classes():
    root = parse(
        bar_chart(
            [Bar("a", 10, "funded"), Bar("b", 5, "other"), Bar("c", 0)], title="t", chart_id="c"
        )
    )
    rects = root.findall("s:rect", NS)
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] == WIDTH - LABEL - VALUE
    assert widths[1] == pytest.approx(widths[0] / 2)
    assert widths[2] == 1  # a hairline: "none", not "missing"
    assert [r.get("class") for r in rects] == ["bar bar-funded", "bar bar-other", "bar bar-plain"]
    assert [t.text for t in root.findall("s:text", NS)][::2] == ["a", "b", "c"]


def test_labels_and_titles_are_escaped():
    svg = str(
        bar_chart([Bar("<script>alert(1)</script>", 1, text="&")], title="<b>", chart_id='x"y')
    )
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    assert root.find("s:title", NS).text == "<b>"
    assert root.findall("s:text", NS)[0].text == "<script>alert(1)</script>"


def test_no_inline_style_anywhere():
    svg = str(bar_chart([Bar("a", 1)], title="t", chart_id="c"))
    assert "style" not in svg


def test_empty_chart_and_negative_values():
    root = parse(bar_chart([], title="t", chart_id="c"))
    assert root.findall("s:rect", NS) == []
    with pytest.raises(ValueError, match="bar values must be >= 0"):
        bar_chart([Bar("a", -1)], title="t", chart_id="c")


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=40))
def test_every_bar_stays_inside_the_picture(values):
    root = parse(bar_chart([Bar(str(i), v) for i, v in enumerate(values)], title="t", chart_id="c"))
    height = float(root.get("height"))
    for r in root.findall("s:rect", NS):
        assert (
            float(r.get("x")) >= LABEL
            and float(r.get("x")) + float(r.get("width")) <= WIDTH - VALUE + 1
        )
        assert float(r.get("y")) + float(r.get("height")) <= height
